// The deliverable register and its reviews, against the real server:
// a realistic 60-deliverable grant-agreement table imported and
// exported unchanged (API and `consort deliverable import`), bad tables
// refused with the line named and nothing imported, codes unique, the
// register filtered by what the caller can read (a WP2 reader sees
// WP2's deliverables only) and by WP, partner, status, due this month
// and overdue, the review flow with two reviewers from other partners
// (one named, one by partner), an approval that stops holding when a new
// version arrives, the coordinator's sign-off, and the review record
// (JSON and CSV) matching the audit log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, runConsort, tempDir } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, Session } from './lib/accounts.mjs';
import { apiJson, api, sha256 } from './lib/docs.mjs';

const PARTNERS = ['UNIA', 'INSTB', 'LABC', 'HOSPD', 'SMEE', 'NGOF'];
const TYPES = ['R', 'DEM', 'DEC', 'DATA', 'ETHICS', 'OTHER'];
const LEVELS = ['PU', 'SEN', 'PU', 'R-UE/EU-R', 'PU', 'SEN'];
const HEADER = 'Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,Dissemination Level,Due Date (in months),Due Date';

// The project started on the 1st of the month three years ago: month 37
// ends this month, months 1..36 are past.
const now = new Date();
const start = `${now.getUTCFullYear() - 3}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-01`;

function cell(v) {
  const s = String(v ?? '');
  return /[,;"\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${/^[=+\-@]/.test(s) ? "'" : ''}${s.replace(/"/g, '""')}"` : s;
}
const line = (cells) => cells.map(cell).join(',') + '\r\n';

// 60 deliverables over 10 work packages, 6 each, as a grant agreement
// lists them: names with commas and quotes, every type and level.
const ROWS = [];
for (let wp = 1; wp <= 10; wp++) {
  for (let n = 1; n <= 6; n++) {
    const i = ROWS.length;
    ROWS.push([`D${wp}.${n}`,
      n === 2 ? `Report on "task ${wp}.${n}", first part` : `Deliverable ${wp}.${n} – ${['data plan', 'pilot', 'guidelines', 'dataset', 'ethics requirements', 'website'][n - 1]}`,
      `WP${wp}`, PARTNERS[(wp + n - 2) % PARTNERS.length], TYPES[n - 1], LEVELS[n - 1],
      wp === 2 && n === 6 ? 37 : ((wp * 6 + n) % 48) + 1, '']);
  }
}
const TABLE = line(HEADER.split(',')) + ROWS.map(line).join('');

let s, coord, lead, rev1, rev2, colleague, wp2reader, outsider;

before(async () => {
  s = await new Server({ args: ['--project-start', start] }).start();
  for (const p of PARTNERS) addPartner(s, p);
  for (let wp = 1; wp <= 10; wp++) addWp(s, `WP${wp}`, { lead: PARTNERS[(wp - 1) % 6] });
  const people = {
    coord: ['coord@a.example', 'UNIA', null, true],
    lead: ['lead@b.example', 'INSTB', 'write'],           // INSTB leads D2.1 (row index 6)
    colleague: ['colleague@b.example', 'INSTB', 'read'],
    rev1: ['rev1@c.example', 'LABC', 'read'],
    rev2: ['rev2@d.example', 'HOSPD', 'read'],
    wp2reader: ['reader@e.example', 'SMEE', 'read'],
    outsider: ['outsider@f.example', 'NGOF', null],
  };
  const sessions = {};
  for (const [name, [email, partner, level, coordinator]] of Object.entries(people)) {
    addUser(s, email, partner, { coordinator: !!coordinator, name: name[0].toUpperCase() + name.slice(1) });
    if (level) grant(s, 'WP2', { user: email }, level);
    sessions[name] = await Session.login(s, email);
  }
  ({ coord, lead, rev1, rev2, colleague, wp2reader, outsider } = sessions);
});

after(async () => { await s?.close(); });

const importCsv = (who, body, type = 'text/csv') =>
  who.req('POST', '/api/v1/deliverables/import', { body, headers: { 'content-type': type } });

async function exportCsv(who, query = '') {
  const r = await who.req('GET', `/api/v1/deliverables?format=csv${query}`);
  assert.equal(r.status, 200);
  return r.body;
}

test('a 60-deliverable table imports in one step and exports unchanged', async () => {
  const r = await importCsv(coord, TABLE);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { created: 60, updated: 0 });
  const csv = await exportCsv(coord);
  assert.equal(csv, TABLE);
  // and the export imports again, as 60 updates, changing nothing
  const again = await importCsv(coord, csv);
  assert.deepEqual(again.body, { created: 0, updated: 60 });
  assert.equal(await exportCsv(coord), TABLE);
  const list = await coord.req('GET', '/api/v1/deliverables');
  assert.equal(list.body.deliverables.length, 60);
  assert.equal(list.body.project_start, start);
  const d21 = list.body.deliverables.find((d) => d.code === 'D2.1');
  assert.deepEqual({ ...d21, due_date: undefined }, {
    code: 'D2.1', title: 'Deliverable 2.1 – data plan', wp: 'WP2', lead: 'INSTB', due_month: 14,
    due_date: undefined, type: 'R', dissemination: 'PU', status: 'planned', submitted_on: null,
    document: null, review: null, overdue: true, submitted_file: null,
  });
  // the register lists in code order: D1.1 ... D1.6, D2.1 ... D10.6
  assert.deepEqual(list.body.deliverables.slice(0, 7).map((d) => d.code),
    ['D1.1', 'D1.2', 'D1.3', 'D1.4', 'D1.5', 'D1.6', 'D2.1']);
  assert.equal(list.body.deliverables.at(-1).code, 'D10.6');
  // the import is in the audit log
  const audit = await coord.req('GET', '/api/v1/audit?action=deliverable_import');
  assert.equal(audit.body.total, 2);
  assert.deepEqual(audit.body.entries.map((e) => [e.user, e.detail]), [["coord@a.example", "0 created, 60 updated"], ["coord@a.example", "60 created, 0 updated"]]);
});

test('bad tables are refused with the line named, and nothing is imported', async () => {
  const before = await exportCsv(coord);
  const ok = line(['D1.7', 'New one', 'WP1', 'UNIA', 'R', 'PU', 10, '']);
  const cases = [
    [ok + line(['D1.8', 'x', 'WP1', 'UNIA', 'Report', 'PU', 10, '']), 400, "line 3: type 'Report'"],
    [ok + line(['D7.9', 'x', 'WP1', 'UNIA', 'R', 'PU', 10, '']), 400, 'line 3: D7.9 belongs to WP7 by its number, not to WP1'],
    [ok + line(['D1.8', 'x', 'WP11', 'UNIA', 'R', 'PU', 10, '']), 400, "line 3: work package 'WP11' does not exist"],
    [ok + line(['D1.8', 'x', 'WP1', 'NOBODY', 'R', 'PU', 10, '']), 400, "line 3: lead beneficiary 'NOBODY' is not a partner"],
    [ok + line(['D1.8', 'x', 'WP1', 'UNIA', 'R', 'TOP', 10, '']), 400, "line 3: dissemination level 'TOP'"],
    [ok + line(['D1.8', 'x', 'WP1', 'UNIA', 'R', 'PU', 'M300', '']), 400, "line 3: due month 'M300'"],
    [ok + 'D1.8,"unclosed,WP1,UNIA,R,PU,10,\r\n', 400, 'line 3: a quoted field is not closed'],
    [ok + 'D1.8,bad"quote,WP1,UNIA,R,PU,10,\r\n', 400, 'line 3: a quote inside an unquoted field'],
    [ok + line(['d1.7', 'again', 'WP1', 'UNIA', 'R', 'PU', 10, '']), 409, 'line 3: D1.7 is given twice (also on line 2)'],
  ];
  for (const [rows, status, detail] of cases) {
    const r = await importCsv(coord, line(HEADER.split(',')) + rows);
    assert.equal(r.status, status, `${detail}: ${JSON.stringify(r.body)}`);
    assert.ok(r.body.detail.includes(detail), `${r.body.detail} should say ${detail}`);
  }
  let r = await importCsv(coord, 'Number,Title\r\nD1.7,x\r\n');
  assert.equal(r.status, 400);
  assert.match(r.body.detail, /^line 1: no column 'WP No'/);
  r = await importCsv(coord, '');
  assert.equal(r.status, 400);
  r = await importCsv(coord, TABLE, 'application/json');
  assert.equal(r.status, 415);
  r = await importCsv(lead, TABLE);
  assert.equal(r.status, 403);
  assert.equal(await exportCsv(coord), before);
});

test('`consort deliverable import` takes the same table, all or nothing', async () => {
  const dir = tempDir();
  const good = join(dir, 'good.csv');
  const bad = join(dir, 'bad.csv');
  writeFileSync(good, line(HEADER.split(',')) + line(['D10.7', 'Added from the command line', 'WP10', 'NGOF', 'OTHER', 'PU', 48, '']));
  writeFileSync(bad, line(HEADER.split(',')) + line(['D10.8', 'x', 'WP10', 'NGOF', 'OTHER', 'PU', 48, '']) + line(['D10.9', 'x', '10', 'NGOF', 'KIND', 'PU', 48, '']));
  let r = runConsort(['deliverable', 'import', '--data', s.dataDir, '--file', bad]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), "consort deliverable import: line 3: type 'KIND' is not one of R, DEM, DEC, DATA, ETHICS, OTHER");
  r = runConsort(['deliverable', 'import', '--data', s.dataDir, '--file', good]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'deliverables: 1 created, 0 updated');
  r = runConsort(['deliverable', 'import', '--data', s.dataDir, '--file', '-'], { input: TABLE });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'deliverables: 0 created, 60 updated');
  const list = await coord.req('GET', '/api/v1/deliverables?wp=WP10');
  assert.deepEqual(list.body.deliverables.map((d) => d.code), ['D10.1', 'D10.2', 'D10.3', 'D10.4', 'D10.5', 'D10.6', 'D10.7']);
  assert.equal(list.body.deliverables.find((d) => d.code === 'D10.8'), undefined);
});

test('members see the deliverables of the work packages they read, nothing else', async () => {
  let r = await wp2reader.req('GET', '/api/v1/deliverables');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.deliverables.map((d) => d.code), ['D2.1', 'D2.2', 'D2.3', 'D2.4', 'D2.5', 'D2.6']);
  r = await wp2reader.req('GET', '/api/v1/deliverables?wp=WP1');
  assert.deepEqual(r.body.deliverables, []);
  r = await wp2reader.req('GET', '/api/v1/deliverables/D1.1');
  assert.equal(r.status, 404);
  const missing = await wp2reader.req('GET', '/api/v1/deliverables/D9.99');
  assert.deepEqual(Object.keys(missing.body), Object.keys(r.body));
  assert.equal(missing.status, 404);
  r = await wp2reader.req('GET', '/api/v1/deliverables/d2.1');
  assert.equal(r.status, 200);
  assert.equal(r.body.deliverable.code, 'D2.1');
  assert.equal(r.body.deliverable.may_edit, false);
  const csv = await exportCsv(wp2reader);
  assert.equal(csv.trim().split('\r\n').length, 7);
  assert.ok(!csv.includes('D1.'));
  r = await outsider.req('GET', '/api/v1/deliverables');
  assert.deepEqual(r.body.deliverables, []);
  // the reader may not change them
  r = await wp2reader.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'drafting' } });
  assert.equal(r.status, 403);
  r = await outsider.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'drafting' } });
  assert.equal(r.status, 404);
});

test('filters: work package, partner, status, due this month, overdue', async () => {
  const codes = async (q) => (await coord.req('GET', `/api/v1/deliverables?${q}`)).body.deliverables.map((d) => d.code);
  assert.equal((await codes('wp=WP3')).length, 6);
  const byPartner = await codes('partner=INSTB');
  assert.ok(byPartner.includes('D2.1') && byPartner.every((c) => ROWS.find((r) => r[0] === c)?.[3] === 'INSTB' || c === 'D10.7'));
  assert.deepEqual(await codes('due=month'), ROWS.filter((r) => r[6] === 37).map((r) => r[0]));
  const overdue = await codes('due=overdue');
  assert.deepEqual(overdue.sort(), ROWS.filter((r) => r[6] <= 36).map((r) => r[0]).sort());
  assert.deepEqual(await codes('status=submitted'), []);
  assert.equal((await coord.req('GET', '/api/v1/deliverables?due=soon')).status, 400);
  assert.equal((await coord.req('GET', '/api/v1/deliverables?status=lost')).status, 400);
});

async function put(who, path, body) {
  const r = await who.req('PUT', `/api/v1/wps/WP2/content/${path}`, { body, headers: { 'content-type': 'application/octet-stream' } });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  return r.body;
}

test('review with two reviewers; a new version voids the approval; coordinator signs off', async () => {
  const v1 = Buffer.from('Data management plan, version one.\n');
  await put(lead, 'D2.1%20plan.txt', v1);
  // one document per deliverable, in its work package
  let r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { document: 'no such.txt' } });
  assert.equal(r.status, 400);
  r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { document: 'D2.1 plan.txt', status: 'drafting' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.deliverable.document.path, 'D2.1 plan.txt');
  assert.equal(r.body.deliverable.document.sha256, sha256(v1));
  assert.equal(r.body.deliverable.status, 'drafting');
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.2', { json: { document: 'D2.1 plan.txt' } });
  assert.equal(r.status, 409);
  // the document carries the code
  r = await lead.req('GET', '/api/v1/wps/WP2/tree/D2.1%20plan.txt');
  assert.equal(JSON.stringify(r.body).includes('"deliverable":"D2.1"'), true);

  // reviewers come from other partners and must read the WP
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['colleague@b.example'] } });
  assert.equal(r.status, 400);
  assert.match(r.body.detail, /member of the lead partner/);
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['outsider@f.example'] } });
  assert.equal(r.status, 400);
  assert.match(r.body.detail, /cannot read the work package/);
  r = await rev1.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev2@d.example'] } });
  assert.equal(r.status, 403);
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example'], partners: ['HOSPD'], due: '2031-02-30' } });
  assert.equal(r.status, 400);
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example'], partners: ['HOSPD'], due: '2031-02-28' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const review1 = r.body.review;
  assert.equal(review1.version, 1);
  assert.equal(review1.sha256, sha256(v1));
  assert.deepEqual(review1.decisions.map((d) => [d.reviewer, d.partner, d.decision]),
    [['rev1@c.example', 'LABC', null], ['rev2@d.example', 'HOSPD', null]]);

  // the task is on each reviewer's home
  r = await rev1.req('GET', '/api/v1/me/reviews');
  assert.deepEqual(r.body.reviews.map((x) => [x.deliverable, x.id]), [['D2.1', review1.id]]);
  r = await lead.req('GET', '/api/v1/me/reviews');
  assert.deepEqual(r.body.reviews, []);

  const decide = (who, id, json) => who.req('POST', `/api/v1/deliverables/D2.1/reviews/${id}/decision`, { json });
  r = await decide(lead, review1.id, { decision: 'approve' });
  assert.equal(r.status, 403);
  r = await decide(rev2, review1.id, { decision: 'changes' });
  assert.equal(r.status, 400); // which changes?
  r = await decide(rev1, review1.id, { decision: 'approve', comment: 'Fine.' });
  assert.equal(r.status, 200);
  r = await decide(rev2, review1.id, { decision: 'changes', comment: 'Section 2 needs the retention periods.' });
  assert.equal(r.status, 200);
  r = await coord.req('GET', '/api/v1/deliverables/D2.1');
  assert.equal(r.body.deliverable.status, 'drafting');
  assert.equal(r.body.deliverable.review.state, 'changes_requested');
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'approved' } });
  assert.equal(r.status, 409);

  // version 2, a second review: both approve
  const v2 = Buffer.from('Data management plan, version two, with retention periods.\n');
  await put(lead, 'D2.1%20plan.txt', v2);
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example', 'rev2@d.example'] } });
  assert.equal(r.status, 201);
  const review2 = r.body.review;
  assert.equal(review2.version, 2);
  r = await decide(rev2, review1.id, { decision: 'approve' });
  assert.equal(r.status, 409); // the old review is closed
  assert.equal((await decide(rev1, review2.id, { decision: 'approve' })).status, 200);
  assert.equal((await decide(rev2, review2.id, { decision: 'approve', comment: 'Thanks.' })).status, 200);
  r = await coord.req('GET', '/api/v1/deliverables/D2.1');
  assert.equal(r.body.deliverable.review.state, 'approved');

  // a new version after the approval: it no longer holds
  await put(lead, 'D2.1%20plan.txt', Buffer.from('Version three, edited after the review.\n'));
  r = await coord.req('GET', '/api/v1/deliverables/D2.1');
  assert.equal(r.body.deliverable.review.state, 'approved_version_differs');
  assert.equal(r.body.deliverable.document.version, 3);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'approved' } });
  assert.equal(r.status, 409);
  assert.match(r.body.detail, /approved version differs from the current one/);
  // restoring the reviewed content makes it hold again (same hash)
  r = await lead.req('POST', '/api/v1/wps/WP2/restore', { json: { path: 'D2.1 plan.txt', version: 2 } });
  assert.ok(r.status === 200 || r.status === 201, JSON.stringify(r.body));
  r = await coord.req('GET', '/api/v1/deliverables/D2.1');
  assert.equal(r.body.deliverable.review.state, 'approved');

  // sign-off is the coordinator's
  r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'approved' } });
  assert.equal(r.status, 403);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'submitted' } });
  assert.equal(r.status, 409);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'approved' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'submitted', submitted_on: '2026-01-15' } });
  assert.equal(r.status, 200);
  assert.equal(r.body.deliverable.submitted_on, '2026-01-15');
  assert.equal(r.body.deliverable.overdue, false);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'accepted' } });
  assert.equal(r.status, 200);
  r = await coord.req('GET', '/api/v1/deliverables?status=accepted');
  assert.deepEqual(r.body.deliverables.map((d) => d.code), ['D2.1']);

  // the review record, as JSON and CSV, matches the audit log
  r = await wp2reader.req('GET', `/api/v1/deliverables/D2.1/reviews/${review1.id}`);
  assert.equal(r.status, 200);
  const rec = r.body.review;
  assert.deepEqual(rec.decisions.map((d) => [d.reviewer, d.decision, d.comment]),
    [['rev1@c.example', 'approve', 'Fine.'], ['rev2@d.example', 'changes', 'Section 2 needs the retention periods.']]);
  r = await wp2reader.req('GET', `/api/v1/deliverables/D2.1/reviews/${review1.id}?format=csv`);
  assert.equal(r.status, 200);
  const rows = r.body.trim().split('\r\n');
  assert.equal(rows[0], 'review,deliverable,version,sha256,started_by,started_at,due_date,reviewer,partner,decision,comment,decided_at,attachment,attachment_version,attachment_sha256');
  assert.equal(rows.length, 3);
  assert.ok(rows[2].startsWith(`${review1.id},D2.1,1,${sha256(v1)},lead@b.example,`));
  assert.ok(rows[2].includes(',rev2@d.example,HOSPD,changes,Section 2 needs the retention periods.,'));
  const audit = (await coord.req('GET', '/api/v1/audit?format=csv&action=review_decision')).body;
  for (const d of rec.decisions) {
    const hit = audit.split('\r\n').find((l) => l.includes(`"${d.reviewer}"`) && l.includes(`review ${review1.id} of version 1 sha256 ${sha256(v1)}: ${d.decision}`));
    assert.ok(hit, `audit has ${d.reviewer} ${d.decision}:\n${audit}`);
    assert.ok(hit.includes(`"${d.decided_at}"`), `${hit} at ${d.decided_at}`);
    assert.ok(hit.includes('"review_decision","WP2","D2.1"'));
  }
  const starts = (await coord.req('GET', '/api/v1/audit?format=csv&action=review_start')).body;
  assert.ok(starts.includes(`review ${review1.id} of version 1 sha256 ${sha256(v1)}; reviewers rev1@c.example rev2@d.example`));
  // an unreadable deliverable's review is missing
  r = await outsider.req('GET', `/api/v1/deliverables/D2.1/reviews/${review1.id}`);
  assert.equal(r.status, 404);
  r = await coord.req('GET', `/api/v1/deliverables/D2.2/reviews/${review1.id}`);
  assert.equal(r.status, 404);
});
