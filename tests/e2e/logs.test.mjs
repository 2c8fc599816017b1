// Logs: one line per request and per event on stderr, plain or JSON;
// what a request carries in its query string, Authorization header or
// cookies never reaches them. And the suite-wide check (lib/secrets.mjs)
// really finds a secret in a log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { withServer, tempDir } from './lib/server.mjs';
import { recordSecret, recordLog, checkArtifacts } from './lib/secrets.mjs';
import { addPartner, addUser, Session, Bearer } from './lib/accounts.mjs';

const SECRET = 'sekrit-' + 'c0ffee'.repeat(6);

async function traffic(s) {
  recordSecret(SECRET);
  await s.fetch(`/healthz?token=${SECRET}&x=1`);
  await s.fetch('/healthz', { headers: { authorization: `Bearer ${SECRET}`, cookie: `__Host-consort=${SECRET}` } });
  await s.fetch(`/nothing/here?password=${SECRET}`, { method: 'POST', body: `{"password":"${SECRET}"}`,
    headers: { 'content-type': 'application/json' } });
}

test('plain lines: one per request, path without the query, no credentials', async () => {
  await withServer({}, async (s) => {
    await traffic(s);
    await new Promise((r) => setTimeout(r, 100));
    const lines = s.log.trim().split('\n');
    // modules may log before the listener (the mail thread says where mail goes)
    assert.ok(lines.some((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info start consort listening on /.test(l)), s.log);
    const req = lines.filter((l) => / info request /.test(l));
    assert.equal(req.length, 3, s.log);
    assert.match(req[0], / info request 127\.0\.0\.1 GET \/healthz 200 \d+ [\d.]+ms -$/);
    assert.match(req[2], / POST \/nothing\/here 404 /);
    assert.ok(!s.log.includes(SECRET), 'a credential reached the log');
    assert.ok(!s.log.includes('token='), 'a query string reached the log');
  });
});

test('json lines parse, one object per line, with the same facts', async () => {
  await withServer({ args: ['--log-format', 'json'] }, async (s) => {
    await traffic(s);
    await new Promise((r) => setTimeout(r, 100));
    const objs = s.log.trim().split('\n').map((l) => JSON.parse(l));
    const start = objs.find((o) => o.event === 'start');
    assert.equal(start?.level, 'info');
    const req = objs.filter((o) => o.event === 'request');
    assert.equal(req.length, 3);
    assert.deepEqual(Object.keys(req[0]).sort(), ['bytes', 'event', 'level', 'method', 'path', 'peer', 'status', 'time', 'us', 'user']);
    assert.equal(req[0].path, '/healthz');
    assert.equal(req[0].status, 200);
    assert.ok(!s.log.includes(SECRET));
  });
});

test('the access line names the signed-in user, never the credentials', async () => {
  await withServer({ args: ['--log-format', 'json'] }, async (s) => {
    addPartner(s, 'UNIA');
    addUser(s, 'ada@unia.example', 'UNIA', { coordinator: true });
    const se = await Session.login(s, 'ada@unia.example');
    assert.equal((await se.req('GET', '/api/v1/me')).status, 200);
    const t = await se.req('POST', '/api/v1/tokens', { json: { name: 'script' } });
    assert.equal(t.status, 201);
    assert.equal((await new Bearer(s, t.body.token).req('GET', '/api/v1/wps')).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    const req = s.log.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.event === 'request');
    const by = (m, p) => req.find((o) => o.method === m && o.path === p);
    assert.equal(by('POST', '/api/v1/session').user, '', 'the login itself is anonymous');
    assert.equal(by('GET', '/api/v1/me').user, 'ada@unia.example');
    assert.equal(by('GET', '/api/v1/wps').user, 'ada@unia.example');
    for (const secret of [se.cookie, se.csrf, t.body.token])
      assert.ok(!s.log.includes(secret), 'a credential reached the log');
  });
});

test('a path cannot forge a log line', async () => {
  await withServer({}, async (s) => {
    const r = await s.raw('GET /a%0Afake HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 404/);
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(!s.log.split('\n').some((l) => l.startsWith('fake')), s.log);
  });
});

test('the suite-wide secrets check finds a secret in a log, raw or encoded', () => {
  const saved = process.env.E2E_ARTIFACTS;
  const dir = tempDir('consort-artifacts-');
  try {
    process.env.E2E_ARTIFACTS = dir;
    recordSecret('correct horse battery staple');
    recordSecret('tok_AAAABBBBCCCC');
    recordSecret('short'); // too short to check: ignored
    recordLog('2026 info request 127.0.0.1 GET /x 200 1 1ms -\n');
    let c = checkArtifacts();
    assert.equal(c.secrets, 2);
    assert.equal(c.leaks.length, 0);
    recordLog('2026 warn login failed for correct%20horse%20battery%20staple\n');
    recordLog(`2026 info ${Buffer.from('tok_AAAABBBBCCCC').toString('base64')}\n`);
    c = checkArtifacts();
    assert.deepEqual(c.leaks.map((l) => l.form).sort(), ['base64', 'url']);
    assert.ok(!c.leaks.some((l) => l.secret.length > 5), 'the report repeats the secret');
  } finally {
    process.env.E2E_ARTIFACTS = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
