// A small consortium for the browser tests, made with the real command
// line: three partners, four work packages, a coordinator, a work
// package lead, members with and without grants.
import { addPartner, addUser, addWp, grant, PASSWORD } from '../../e2e/lib/accounts.mjs';

export { PASSWORD };

export const people = {
  coord: { email: 'clara@office.example', name: 'Clara Coordinator', partner: 'OFFICE', coordinator: true },
  alice: { email: 'alice@uni-a.example', name: 'Alice Martin', partner: 'UNIA' },
  bob: { email: 'bob@inst-b.example', name: 'Bob Schneider', partner: 'INSTB' },
  carol: { email: 'carol@lab-c.example', name: 'Carol Rossi', partner: 'LABC' },
};

export function consortium(s) {
  addPartner(s, 'OFFICE', { name: 'Project Office', country: 'BE' });
  addPartner(s, 'UNIA', { name: 'University of Antwerp', country: 'BE' });
  addPartner(s, 'INSTB', { name: 'Institut Bergonié', country: 'FR' });
  addPartner(s, 'LABC', { name: 'Laboratorio Clinico', country: 'IT' });
  for (const p of Object.values(people)) addUser(s, p.email, p.partner, { name: p.name, coordinator: !!p.coordinator });
  addWp(s, 'WP1', { title: 'Project management', lead: 'OFFICE' });
  addWp(s, 'WP2', { title: 'Germline testing guidelines', lead: 'UNIA' });
  addWp(s, 'WP3', { title: 'Tumour profiling', lead: 'INSTB' });
  addWp(s, 'WP4', { title: 'Dissemination and training', lead: 'LABC' });
  grant(s, 'WP1', { partner: 'UNIA' }, 'read');
  grant(s, 'WP2', { partner: 'UNIA' }, 'write');
  grant(s, 'WP2', { user: people.alice.email }, 'manage');
  grant(s, 'WP3', { partner: 'INSTB' }, 'write');
  grant(s, 'WP1', { partner: 'INSTB' }, 'read');
}
