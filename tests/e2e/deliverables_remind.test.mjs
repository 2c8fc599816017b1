// Review tasks and reminders of the deliverable register by mail, with a
// real SMTP server (lib/smtp.mjs): reviewers get the task when a review
// starts; the reminder job (run now through /_test/reminders, and on its
// own thread every reminder-interval) reminds pending reviewers of a
// review due soon or overdue and the lead partner's people who can write
// the work package of a deliverable due soon or overdue; each step is
// mailed once (again on a second run, on runs at the same time, and after
// a restart), again when its due date moves; access is checked when the
// mail is made (a reviewer who lost read access gets nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session } from './lib/accounts.mjs';
import { Smtp, smtpArgs } from './lib/smtp.mjs';

const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
const TABLE = 'Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,Dissemination Level,Due Date (in months)\r\n' +
  'D2.1,Data management plan,WP2,INSTB,R,PU,6\r\nD2.2,Pilot,WP2,INSTB,DEM,PU,12\r\nD2.3,Website,WP2,INSTB,DEC,PU,12\r\n';

test('review tasks and reminders, each step mailed once', async () => {
  const smtp = new Smtp();
  await smtp.start();
  const passFile = join(tempDir(), 'smtp-pass');
  writeFileSync(passFile, `${smtp.password}\n`);
  const args = [...smtpArgs(smtp, passFile), '--reminder-interval', '0', '--reminder-days', '3'];
  const dataDir = tempDir(); // kept over the restart
  let s = await new Server({ dataDir, args }).start();
  try {
    for (const p of ['UNIA', 'INSTB', 'LABC', 'HOSPD']) addPartner(s, p);
    addWp(s, 'WP2', { lead: 'INSTB' });
    const people = [['coord@a.example', 'UNIA', null, true], ['lead@b.example', 'INSTB', 'write'],
      ['colleague@b.example', 'INSTB', 'read'], ['rev1@c.example', 'LABC', 'read'], ['rev2@d.example', 'HOSPD', 'read']];
    const sess = {};
    for (const [email, partner, level, coordinator] of people) {
      addUser(s, email, partner, { coordinator: !!coordinator });
      if (level) grant(s, 'WP2', { user: email }, level);
      sess[email.split('@')[0]] = await Session.login(s, email);
    }
    const { coord, lead } = sess;
    let r = await coord.req('POST', '/api/v1/deliverables/import', { body: TABLE, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const [code, due] of [['D2.1', day(2)], ['D2.2', day(-1)], ['D2.3', day(30)]]) {
      r = await lead.req('PATCH', `/api/v1/deliverables/${code}`, { json: { due_date: due } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    r = await lead.req('PUT', '/api/v1/wps/WP2/content/D2.1%20plan.txt', { body: 'The plan.\n', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 201);
    r = await lead.req('PATCH', '/api/v1/deliverables/D2.1', { json: { document: 'D2.1 plan.txt' } });
    assert.equal(r.status, 200);

    // a review starts: each reviewer gets the task by mail (and on home)
    r = await lead.req('POST', '/api/v1/deliverables/D2.1/reviews', { json: { reviewers: ['rev1@c.example', 'rev2@d.example'], due: day(1) } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const TASK = /^Review task: D2\.1, version 1$/;
    for (const who of ['rev1@c.example', 'rev2@d.example']) {
      const [m] = await smtp.waitFor(who, TASK);
      assert.match(m.parsed.text, /You are asked to review D2\.1 "Data management plan", version 1, by \d{4}-\d\d-\d\d\./);
      assert.ok(m.parsed.text.includes('/#/deliverables/D2.1'), m.parsed.text);
    }
    assert.equal(smtp.to('lead@b.example', TASK).length, 0);

    // rev2 loses read access before the reminder: access is asked when the mail is made
    sql(s, "DELETE FROM grants WHERE user_id = (SELECT id FROM users WHERE email = 'rev2@d.example')");

    const run = async () => {
      const res = await s.fetch('/_test/reminders', { method: 'POST' });
      assert.equal(res.status, 200);
      return res.json();
    };
    assert.deepEqual(await run(), { review_tasks: 0, review_reminders: 1, deliverable_reminders: 2 });
    const [rm] = await smtp.waitFor('rev1@c.example', /^Reminder: your review of D2\.1 is due on/);
    assert.ok(rm.parsed.subject.endsWith(day(1)));
    await smtp.waitFor('lead@b.example', new RegExp(`^Reminder: deliverable D2\\.1 is due on ${day(2)}$`));
    await smtp.waitFor('lead@b.example', new RegExp(`^Reminder: deliverable D2\\.2 is overdue since ${day(-1)}$`));

    // once: a second run, runs at the same time on several workers
    assert.deepEqual(await run(), { review_tasks: 0, review_reminders: 0, deliverable_reminders: 0 });
    const many = await Promise.all([run(), run(), run(), run()]);
    for (const x of many) assert.deepEqual(x, { review_tasks: 0, review_reminders: 0, deliverable_reminders: 0 });

    // a moved due date is reminded again
    r = await lead.req('PATCH', '/api/v1/deliverables/D2.2', { json: { due_date: day(1) } });
    assert.equal(r.status, 200);
    assert.deepEqual(await run(), { review_tasks: 0, review_reminders: 0, deliverable_reminders: 1 });
    await smtp.waitFor('lead@b.example', new RegExp(`^Reminder: deliverable D2\\.2 is due on ${day(1)}$`));

    // after a restart, with the job on its own thread: nothing twice
    await s.close();
    s = await new Server({ dataDir, args: [...smtpArgs(smtp, passFile), '--reminder-interval', '300ms'] }).start();
    await new Promise((res) => setTimeout(res, 1500));
    assert.deepEqual(await run(), { review_tasks: 0, review_reminders: 0, deliverable_reminders: 0 });

    // the job runs on its own: a review overdue is reminded without the hook
    sql(s, `UPDATE deliverable_reviews SET due_date = '${day(-2)}'`);
    await smtp.waitFor('rev1@c.example', new RegExp(`^Reminder: your review of D2\\.1 is overdue since ${day(-2)}$`));
    await new Promise((res) => setTimeout(res, 1000));

    // every step went once to each person, to nobody else
    const count = (who, re) => smtp.to(who, re).length;
    assert.equal(count('rev1@c.example', TASK), 1);
    assert.equal(count('rev2@d.example', TASK), 1);
    assert.equal(count('rev1@c.example', /^Reminder: your review of D2\.1 is due on/), 1);
    assert.equal(count('rev1@c.example', /is overdue since/), 1);
    assert.equal(count('rev2@d.example', /^Reminder/), 0);
    assert.equal(count('lead@b.example', /D2\.1 is due on/), 1);
    assert.equal(count('lead@b.example', /D2\.2 is overdue since/), 1);
    assert.equal(count('lead@b.example', /D2\.3/), 0);
    assert.equal(count('colleague@b.example', /^Reminder/), 0); // may only read WP2
    assert.equal(count('coord@a.example', /^Reminder/), 0);
    const rows = sql(s, 'SELECT count(*) AS n FROM deliverable_reminders')[0].n;
    assert.equal(Number(rows), 7); // 2 tasks, rev1: due and overdue, lead: D2.1 due, D2.2 overdue and due again
  } finally {
    await s.close();
    await smtp.stop();
  }
});
