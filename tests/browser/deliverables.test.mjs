// The deliverable register and review screens in Chromium: the
// coordinator imports the grant agreement's table from a CSV file and
// filters the register; the lead of D2.1 links its document and starts a
// review with a named reviewer and a whole partner; the reviewers find
// the task on their home page and answer (approve, request changes);
// after a new version a reviewer sees what changed since the reviewed
// one, attaching an annotated file to the answer; the coordinator marks
// it submitted with the submitted PDF. The screens pass the
// accessibility check and fit a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setup, newPage, signIn, checkScreen, noProblems, people } from './lib/common.mjs';
import { grant, Session } from '../e2e/lib/accounts.mjs';
import { tempDir } from '../e2e/lib/server.mjs';

let env;
before(async () => {
  env = await setup();
  grant(env.s, 'WP2', { user: people.carol.email }, 'read');
  grant(env.s, 'WP2', { partner: 'INSTB' }, 'read');
});
after(async () => { await env.close(); });

const TABLE = [
  'Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,Dissemination Level,Due Date (in months)',
  'D1.1,Project handbook,WP1,OFFICE,R,SEN,3',
  'D2.1,Germline testing guidelines,WP2,UNIA,R,PU,12',
  'D2.2,"Counselling pathways, draft",WP2,UNIA,R,PU,18',
  'D3.1,Tumour profiling protocol,WP3,INSTB,R,SEN,9',
  'D4.1,Project website,WP4,LABC,DEC,PU,4',
].join('\r\n') + '\r\n';

async function putText(who, path, text) {
  const me = await Session.login(env.s, who.email);
  const r = await me.req('PUT', `/api/v1/wps/WP2/content/${path.split('/').map(encodeURIComponent).join('/')}`, { body: text });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
}

test('register: CSV import, filters, timeline, links', async () => {
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.locator('#nav').getByRole('link', { name: 'Deliverables' }).click();
  await page.getByRole('heading', { level: 1, name: 'Deliverables' }).waitFor();
  await page.getByText('No deliverables').waitFor();
  const dir = tempDir('consort-deliv-');
  writeFileSync(join(dir, 'ga-table.csv'), TABLE);
  await page.locator('#deliv-import-file').setInputFiles(join(dir, 'ga-table.csv'));
  await page.getByText('Imported: 5 new, 0 updated.').waitFor();
  await page.getByRole('heading', { name: '5 deliverables' }).waitFor();
  await page.getByRole('list', { name: 'Timeline by month' }).getByRole('link', { name: 'D2.1' }).waitFor();
  // a bad file: the line is named, nothing changes
  writeFileSync(join(dir, 'bad.csv'), TABLE + 'D2.3,Extra,WP2,UNIA,Report,PU,20\r\n');
  await page.locator('#deliv-import-file').setInputFiles(join(dir, 'bad.csv'));
  await page.getByRole('alert').getByText("line 7: type 'Report'").waitFor();
  // filters
  const filters = page.getByRole('form', { name: 'Filter deliverables' });
  await filters.getByLabel('Work package', { exact: true }).selectOption('WP2');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('heading', { name: '2 deliverables' }).waitFor();
  const rows = page.locator('table tbody tr');
  assert.equal(await rows.count(), 2);
  await filters.getByLabel('Due', { exact: true }).selectOption('overdue');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No deliverables').waitFor(); // no project start: nothing can be overdue
  await page.goto(`${env.s.url}/#/deliverables`);
  await page.getByRole('heading', { name: '5 deliverables' }).waitFor();
  await checkScreen(page, 'deliverables');
  await page.getByRole('table').getByRole('link', { name: 'D2.1' }).click();
  await page.getByRole('heading', { level: 1, name: /D2\.1 — Germline testing guidelines/ }).waitFor();
  noProblems(problems, [/status of 401/, /status of 400/]); // before sign-in; the refused file
});

test('review: the lead starts it, reviewers answer from home, the diff shows what changed', async () => {
  await putText(people.alice, 'Deliverables/D2.1 guidelines.txt', 'Germline testing is offered to every patient with a family history.\n');
  // the lead (UNIA manages WP2) links the document and starts the review
  const lead = await newPage(env.b);
  await signIn(lead.page, env.s.url, people.alice);
  await lead.page.goto(`${env.s.url}/#/deliverables/D2.1`);
  await lead.page.getByRole('button', { name: 'Link document' }).click();
  let dlg = lead.page.getByRole('dialog');
  await dlg.getByLabel('Path of the document in WP2').fill('Deliverables/D2.1 guidelines.txt');
  await dlg.getByRole('button', { name: 'Save' }).click();
  await lead.page.getByRole('link', { name: 'Deliverables/D2.1 guidelines.txt · v1' }).waitFor();
  await lead.page.getByRole('button', { name: 'Start review' }).click();
  dlg = lead.page.getByRole('dialog');
  await dlg.getByLabel('Reviewers (emails)').fill(people.alice.email);
  await dlg.getByRole('button', { name: 'Start review' }).click();
  await dlg.getByText(/member of the lead partner/).waitFor(); // refused, said in the dialog
  await dlg.getByLabel('Reviewers (emails)').fill(people.carol.email);
  await dlg.getByLabel('Or whole partners (short names)').fill('INSTB');
  await dlg.getByRole('button', { name: 'Start review' }).click();
  await lead.page.getByRole('heading', { name: 'Review 1 of version 1' }).waitFor();
  await lead.page.getByRole('cell', { name: /Carol Rossi/ }).waitFor();
  await lead.page.getByRole('cell', { name: /Bob Schneider/ }).waitFor();
  await checkScreen(lead.page, 'deliverable-review');
  noProblems(lead.problems, [/status of 401/, /status of 400/]); // before sign-in; the refused reviewer

  // carol finds the task on her home page and approves
  const carol = await newPage(env.b);
  await signIn(carol.page, env.s.url, people.carol);
  await carol.page.getByRole('link', { name: 'Review D2.1, version 1' }).click();
  await carol.page.getByLabel('Comment').fill('Clear and complete.');
  await carol.page.getByRole('button', { name: 'Approve', exact: true }).click();
  await carol.page.getByRole('cell', { name: 'Clear and complete.' }).waitFor();

  // bob (INSTB) asks for changes
  const bob = await newPage(env.b);
  await signIn(bob.page, env.s.url, people.bob);
  await bob.page.getByRole('link', { name: 'Review D2.1, version 1' }).click();
  await bob.page.getByLabel('Comment').fill('Add the age criteria.');
  const dir = tempDir('consort-deliv-');
  writeFileSync(join(dir, 'bob notes.pdf'), '%PDF-1.4\n% notes on the age criteria\n%%EOF\n');
  await bob.page.getByLabel('Annotated file').setInputFiles(join(dir, 'bob notes.pdf'));
  await bob.page.getByRole('button', { name: 'Request changes' }).click();
  await bob.page.getByRole('cell', { name: 'Add the age criteria.' }).waitFor();
  // the file is kept in the work package and linked from bob's answer
  await bob.page.getByRole('link', { name: 'review 1 bob@inst-b.example bob notes.pdf · v1' }).waitFor();
  await bob.page.getByText('Changes requested').first().waitFor();

  // a new version: bob sees what changed since the reviewed one
  await putText(people.alice, 'Deliverables/D2.1 guidelines.txt', 'Germline testing is offered to every patient under 50 with a family history.\n');
  await bob.page.reload();
  await bob.page.getByRole('button', { name: 'What changed since version 1' }).click();
  const diff = bob.page.getByRole('group', { name: 'Changes from version 1 to version 2' });
  await diff.locator('ins', { hasText: 'under 50' }).waitFor();
  assert.equal(await diff.locator('del').count(), 0);
  await checkScreen(bob.page, 'deliverable-diff');
  noProblems(carol.problems, [/status of 401/]);
  noProblems(bob.problems, [/status of 401/]);
});

test('submission: the coordinator marks D2.1 submitted with the PDF', async () => {
  // a review of the current version, approved (through the API)
  const alice = await Session.login(env.s, people.alice.email);
  let r = await alice.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: [people.carol.email] } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const carol = await Session.login(env.s, people.carol.email);
  r = await carol.req('POST', `/api/v1/deliverables/D2.1/reviews/${r.body.review.id}/decision`, { json: { decision: 'approve' } });
  assert.equal(r.status, 200);
  const { page, problems } = await newPage(env.b);
  await signIn(page, env.s.url, people.coord);
  await page.goto(`${env.s.url}/#/deliverables/D2.1`);
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  await page.getByRole('button', { name: 'Mark submitted' }).click();
  const dlg = page.getByRole('dialog');
  const dir = tempDir('consort-deliv-');
  writeFileSync(join(dir, 'not.pdf'), 'plain text');
  writeFileSync(join(dir, 'D2.1 final.pdf'), '%PDF-1.4\n% the submitted deliverable\n%%EOF\n');
  await dlg.getByLabel('Submitted on').fill('2026-01-15');
  await dlg.getByLabel('Submitted PDF').setInputFiles(join(dir, 'not.pdf'));
  await dlg.getByRole('button', { name: 'Mark submitted' }).click();
  await dlg.getByText('the submitted file must be a PDF').waitFor(); // refused, said in the dialog
  await dlg.getByLabel('Submitted PDF').setInputFiles(join(dir, 'D2.1 final.pdf'));
  await dlg.getByRole('button', { name: 'Mark submitted' }).click();
  await page.getByRole('link', { name: 'D2.1 submitted.pdf · v1' }).waitFor();
  await page.getByText('2026-01-15').waitFor();
  await page.getByRole('button', { name: 'Accepted by the Commission' }).waitFor();
  await checkScreen(page, 'deliverable-submitted');
  noProblems(problems, [/status of 401/, /status of 415/]); // before sign-in; the refused file
});
