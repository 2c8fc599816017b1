// The files around a deliverable's review, against the real server: a
// reviewer's annotated file attached to their answer (stored through the
// upload path as "Reviews/<code>/review N <email> <name>" in the work
// package, though the reviewer may only read it; readable by the
// deliverable's readers; a second file of the same name is a version; in
// the review record and its CSV, in the audit log), and the submission
// step (the coordinator uploads the submitted PDF, kept as "<code>
// submitted.pdf" beside the document, recorded on the deliverable and in
// the audit log; the document's versions and the approval are untouched;
// accepted / revision requested after it). Bad input: wrong people, bad
// names, empty, too large (declared and streamed), over quota, not a PDF,
// a bad date, a superseded review: a clear error and nothing stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';
import { sha256 } from './lib/docs.mjs';

const MAX = 100000;
let s, coord, lead, rev1, rev2, reader, outsider, review;

const TABLE = 'Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,Dissemination Level,Due Date (in months)\r\n' +
  'D2.1,Data management plan,WP2,INSTB,R,PU,6\r\nD2.2,Pilot,WP2,INSTB,DEM,PU,12\r\n';

before(async () => {
  s = await new Server({ args: ['--project-start', '2025-01-01', '--review-file-max', String(MAX)] }).start();
  for (const p of ['UNIA', 'INSTB', 'LABC', 'HOSPD', 'NGOF']) addPartner(s, p);
  addWp(s, 'WP2', { lead: 'INSTB' });
  const people = [['coord@a.example', 'UNIA', null, true], ['lead@b.example', 'INSTB', 'write'],
    ['rev1@c.example', 'LABC', 'read'], ['rev2@d.example', 'HOSPD', 'read'],
    ['reader@c.example', 'LABC', 'read'], ['outsider@f.example', 'NGOF', null]];
  const out = [];
  for (const [email, partner, level, coordinator] of people) {
    addUser(s, email, partner, { coordinator: !!coordinator });
    if (level) grant(s, 'WP2', { user: email }, level);
    out.push(await Session.login(s, email));
  }
  [coord, lead, rev1, rev2, reader, outsider] = out;
  let r = await coord.req('POST', '/api/v1/deliverables/import', { body: TABLE, headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await lead.req('PUT', '/api/v1/wps/WP2/content/Plans/D2.1%20plan.txt',
    { body: 'The plan, version one.\n', headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { document: 'Plans/D2.1 plan.txt' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example', 'rev2@d.example'] } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  review = r.body.review;
});

after(async () => { await s?.close(); });

const pdf = (text) => Buffer.from(`%PDF-1.4\n% ${text}\n%%EOF\n`);
const attach = (who, name, body, id = review.id, code = 'D2.1') =>
  who.req('PUT', `/api/v1/deliverables/${code}/reviews/${id}/attachment${name === null ? '' : `?name=${encodeURIComponent(name)}`}`,
    { body, headers: { 'content-type': 'application/pdf' } });
const docs = () => sql(s, "SELECT name FROM nodes WHERE is_folder = 0 AND trashed_at IS NULL ORDER BY name").map((r) => r.name);

test('a reviewer attaches an annotated file to their answer', async () => {
  const a1 = pdf('comments of rev1, first');
  let r = await rev1.req('POST', `/api/v1/deliverables/D2.1/reviews/${review.id}/decision`,
    { json: { decision: 'changes', comment: 'See my notes in the PDF.' } });
  assert.equal(r.status, 200);
  r = await attach(rev1, 'notes.pdf', a1);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const path = `Reviews/D2.1/review ${review.id} rev1@c.example notes.pdf`;
  const mine = r.body.review.decisions.find((d) => d.reviewer === 'rev1@c.example');
  assert.deepEqual(mine.attachment, { path, version: 1, sha256: sha256(a1) });
  assert.equal(mine.decision, 'changes'); // the answer is kept
  assert.equal(r.body.review.decisions.find((d) => d.reviewer === 'rev2@d.example').attachment, null);

  // a document of the work package like any upload: readable by its readers
  r = await reader.req('GET', `/api/v1/wps/WP2/content/${path.split('/').map(encodeURIComponent).join('/')}`);
  assert.equal(r.status, 200);
  assert.equal(Buffer.from(r.body).toString(), a1.toString());
  r = await outsider.req('GET', `/api/v1/wps/WP2/content/${path.split('/').map(encodeURIComponent).join('/')}`);
  assert.equal(r.status, 404);

  // the same name again is a new version of it
  const a2 = pdf('comments of rev1, second');
  r = await attach(rev1, 'notes.pdf', a2);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.review.decisions.find((d) => d.reviewer === 'rev1@c.example').attachment,
    { path, version: 2, sha256: sha256(a2) });

  // the review record, JSON and CSV, and the audit log
  r = await reader.req('GET', `/api/v1/deliverables/D2.1/reviews/${review.id}?format=csv`);
  const rows = r.body.trim().split('\r\n');
  assert.ok(rows[0].endsWith(',attachment,attachment_version,attachment_sha256'));
  assert.ok(rows[1].includes('rev1@c.example') && rows[1].endsWith(`,${path},2,${sha256(a2)}`), rows[1]);
  assert.ok(rows[2].includes('rev2@d.example') && rows[2].endsWith(',,,'), rows[2]);
  r = await coord.req('GET', '/api/v1/audit?format=csv&action=review_attachment');
  assert.ok(r.body.includes(`review ${review.id}: file ${path} version 2 sha256 ${sha256(a2)}`), r.body);
  assert.ok(r.body.includes('"rev1@c.example"'));
  r = await coord.req('GET', '/api/v1/audit?format=csv&action=upload');
  assert.ok(r.body.includes('notes.pdf'), r.body);
});

test('bad attachments are refused and nothing is stored', async () => {
  const before = docs();
  const cases = [
    [lead, 'x.pdf', pdf('x'), 403],          // not a reviewer
    [outsider, 'x.pdf', pdf('x'), 404],      // cannot read the deliverable
    [rev2, null, pdf('x'), 400],             // no name
    [rev2, '', pdf('x'), 400],
    [rev2, 'a/b.pdf', pdf('x'), 400],
    [rev2, '..', pdf('x'), 400],
    [rev2, 'x'.repeat(201), pdf('x'), 400],
    [rev2, 'empty.pdf', Buffer.alloc(0), 400],
    [rev2, 'big.pdf', Buffer.alloc(MAX + 1, 0x41), 413],
  ];
  for (const [who, name, body, status] of cases) {
    const r = await attach(who, name, body);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.ok(r.body.detail, JSON.stringify(r.body));
  }
  let r = await attach(rev2, 'x.pdf', pdf('x'), 9999);
  assert.equal(r.status, 404);
  r = await attach(rev2, 'x.pdf', pdf('x'), review.id, 'D2.2');
  assert.equal(r.status, 404);

  // a body of undeclared length is stopped at the limit too
  const chunks = [Buffer.alloc(60000, 0x42), Buffer.alloc(60000, 0x43)];
  const body = new ReadableStream({ pull(c) { const x = chunks.shift(); if (x) c.enqueue(x); else c.close(); } });
  try {
    const res = await s.fetch(`/api/v1/deliverables/D2.1/reviews/${review.id}/attachment?name=stream.pdf`, {
      method: 'PUT', body, duplex: 'half',
      headers: { cookie: `__Host-consort=${rev2.cookie}`, 'x-csrf-token': rev2.csrf, 'content-type': 'application/pdf' },
    });
    assert.equal(res.status, 413);
  } catch (e) {
    // the server may close the connection while the body is still going
    assert.match(String(e.cause?.code || e.message), /ECONNRESET|EPIPE|UND_ERR|other side closed|fetch failed/);
  }

  // the work package's quota applies
  sql(s, "UPDATE wps SET quota_bytes = 1 WHERE code = 'WP2'");
  r = await attach(rev2, 'quota.pdf', pdf('over quota'));
  assert.equal(r.status, 507, JSON.stringify(r.body));
  sql(s, "UPDATE wps SET quota_bytes = NULL WHERE code = 'WP2'");
  // nothing is written into an archived work package
  sql(s, "UPDATE wps SET archived_at = 1 WHERE code = 'WP2'");
  r = await attach(rev2, 'archived.pdf', pdf('archived'));
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.match(r.body.detail, /archived/);
  sql(s, "UPDATE wps SET archived_at = NULL WHERE code = 'WP2'");
  assert.deepEqual(docs(), before);
  r = await reader.req('GET', `/api/v1/deliverables/D2.1/reviews/${review.id}`);
  assert.equal(r.body.review.decisions.find((d) => d.reviewer === 'rev2@d.example').attachment, null);
});

test('submission: the PDF kept beside the document, recorded and audited', async () => {
  const submit = (who, body, q = '', code = 'D2.1') =>
    who.req('PUT', `/api/v1/deliverables/${code}/submission${q}`, { body, headers: { 'content-type': 'application/pdf' } });
  // a second review of version 1, approved by both
  let r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example', 'rev2@d.example'] } });
  assert.equal(r.status, 201);
  const second = r.body.review;
  // the first review is closed now: no more files on it
  r = await attach(rev1, 'late.pdf', pdf('late'));
  assert.equal(r.status, 409);
  for (const who of [rev1, rev2]) {
    r = await who.req('POST', `/api/v1/deliverables/D2.1/reviews/${second.id}/decision`, { json: { decision: 'approve' } });
    assert.equal(r.status, 200);
  }
  const sub = pdf('the submitted deliverable');
  r = await submit(coord, sub); // not approved yet
  assert.equal(r.status, 409);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'approved' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  const before = docs();
  for (const [who, body, q, status] of [
    [lead, sub, '', 403],
    [outsider, sub, '', 404],
    [coord, Buffer.from('PK\x03\x04 not a pdf'), '', 415],
    [coord, Buffer.alloc(0), '', 400],
    [coord, sub, '?submitted_on=2026-02-30', 400],
    [coord, Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(MAX, 0x20)]), '', 413],
  ]) {
    r = await submit(who, body, q);
    assert.equal(r.status, status, JSON.stringify(r.body));
  }
  r = await submit(coord, sub, '', 'D2.2'); // planned
  assert.equal(r.status, 409);
  assert.deepEqual(docs(), before);

  r = await submit(coord, sub, '?submitted_on=2026-01-15');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  let d = r.body.deliverable;
  assert.equal(d.status, 'submitted');
  assert.equal(d.submitted_on, '2026-01-15');
  assert.deepEqual(d.submitted_file, { path: 'Plans/D2.1 submitted.pdf', version: 1, sha256: sha256(sub) });
  // the document and its approval are as they were
  assert.equal(d.document.path, 'Plans/D2.1 plan.txt');
  assert.equal(d.document.version, 1);
  assert.equal(d.review.state, 'approved');
  r = await reader.req('GET', '/api/v1/wps/WP2/content/Plans/D2.1%20submitted.pdf');
  assert.equal(r.status, 200);
  r = await coord.req('GET', '/api/v1/audit?format=csv&action=deliverable_submit');
  assert.ok(r.body.includes(`status submitted submitted_on 2026-01-15; file Plans/D2.1 submitted.pdf version 1 sha256 ${sha256(sub)}`), r.body);

  // submitted once: again only after the Commission asks for a revision
  r = await submit(coord, sub);
  assert.equal(r.status, 409);
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'revision_requested' } });
  assert.equal(r.status, 200);
  const sub2 = pdf('the revised deliverable');
  r = await submit(coord, sub2);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  d = r.body.deliverable;
  assert.equal(d.submitted_on, new Date().toISOString().slice(0, 10));
  assert.deepEqual(d.submitted_file, { path: 'Plans/D2.1 submitted.pdf', version: 2, sha256: sha256(sub2) });
  r = await coord.req('PATCH', '/api/v1/deliverables/D2.1', { json: { status: 'accepted' } });
  assert.equal(r.status, 200);
  r = await reader.req('GET', '/api/v1/deliverables/D2.1');
  assert.equal(r.body.deliverable.status, 'accepted');
  assert.equal(r.body.deliverable.submitted_file.version, 2);
});
