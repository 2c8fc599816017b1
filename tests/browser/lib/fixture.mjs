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

// Documents for the screens: folders, documents of several kinds, a few
// versions with comments, deliverable metadata. Made through the HTTP
// API as the coordinator (PUT with a comment, PATCH for metadata).
export async function documents(s) {
  const { Session } = await import('../../e2e/lib/accounts.mjs');
  const me = await Session.login(s, people.coord.email);
  const put = async (wp, path, body, comment) => {
    const q = comment ? `?comment=${encodeURIComponent(comment)}` : '';
    const enc = path.split('/').map(encodeURIComponent).join('/');
    const r = await me.req('PUT', `/api/v1/wps/${wp}/content/${enc}${q}`, { body });
    if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const meta = async (wp, path, body) => {
    const enc = path.split('/').map(encodeURIComponent).join('/');
    const r = await me.req('PATCH', `/api/v1/wps/${wp}/tree/${enc}`, { json: body });
    if (r.status !== 200) throw new Error(`PATCH ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  const pdf = (title) => Buffer.from(`%PDF-1.4\n% ${title}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
  await put('WP2', 'Deliverables/D2.1 Germline testing guidelines.pdf', pdf('draft 1'), 'First draft for the partners');
  await put('WP2', 'Deliverables/D2.1 Germline testing guidelines.pdf', pdf('draft 2 with comments'), 'Comments from INSTB merged');
  await put('WP2', 'Deliverables/D2.1 Germline testing guidelines.pdf', pdf('final text'), 'Final text approved by the board');
  await meta('WP2', 'Deliverables/D2.1 Germline testing guidelines.pdf', { deliverable: 'D2.1', status: 'final' });
  await put('WP2', 'Deliverables/D2.2 Counselling pathways.txt', 'Counselling pathways for hereditary cancer syndromes.\nDraft.\n', 'Outline');
  await meta('WP2', 'Deliverables/D2.2 Counselling pathways.txt', { deliverable: 'D2.2', status: 'review' });
  await put('WP2', 'Meetings/2024-03 Kick-off minutes.md', '# Kick-off\n\nGermline testing: agree on the panel of genes.\n', 'Minutes');
  await put('WP2', 'Meetings/2024-06 Progress meeting.md', '# Progress\n\nBRCA1 and BRCA2 results shared.\n');
  await put('WP2', 'Data/variant-classification.csv', 'gene,variant,class\nBRCA1,c.68_69del,5\nBRCA2,c.5946del,5\n');
  await put('WP2', 'Work plan 2024.txt', 'Tasks and milestones of WP2 for 2024.\n');
  await put('WP2', 'Contacts.txt', 'WP2 contact list.\n');
  await put('WP1', 'Consortium agreement.pdf', pdf('agreement'), 'Signed version');
  await put('WP1', 'Reports/Periodic report 1.txt', 'Periodic report, months 1-18.\n');
  await put('WP3', 'Protocols/Tumour sequencing SOP.md', '# SOP\n\nTumour profiling by NGS panel.\n');
  return me;
}
