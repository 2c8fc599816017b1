// systemd integration: the units in deploy/ pass `systemd-analyze
// verify`, the server's exposure score is 2.0 or lower, readiness and
// reload are announced over NOTIFY_SOCKET, and deploy/install stages
// every file where the units expect it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, statSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Server, tempDir, repoRoot, consortBin } from './lib/server.mjs';
import { resolve } from 'node:path';

const units = ['consort.service', 'consort-backup.service', 'consort-backup.timer'];

// The units name installed paths; point them at this checkout so that
// verify can check that the programs exist.
function stageUnits() {
  const dir = tempDir('consort-units-');
  for (const u of units) {
    const text = readFileSync(join(repoRoot, 'deploy', u), 'utf8')
      .replaceAll('/usr/local/bin/consort', resolve(consortBin))
      .replaceAll('/usr/local/lib/consort/consort-backup', join(repoRoot, 'deploy', 'consort-backup'));
    writeFileSync(join(dir, u), text);
  }
  return dir;
}

test('systemd-analyze verify passes on every unit', () => {
  const dir = stageUnits();
  const r = spawnSync('systemd-analyze', ['verify', ...units], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.error, undefined, `systemd-analyze could not run: ${r.error}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `verify warned:\n${r.stderr}`);
});

test('exposure score of consort.service is 2.0 or lower', () => {
  const dir = stageUnits();
  // --offline evaluates the unit file without loading it into a running
  // systemd (none runs in a container); --threshold fails above 2.0.
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--threshold=20',
    '--no-pager', join(dir, 'consort.service')], { encoding: 'utf8' });
  const m = /Overall exposure level for consort\.service: (\d+\.\d)/.exec(r.stdout);
  assert.ok(m, `no score in:\n${r.stdout}${r.stderr}`);
  console.log(`systemd-analyze security consort.service: ${m[1]}`);
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]}`);
  assert.equal(r.status, 0);
  // the documented score is the measured one
  const doc = readFileSync(join(repoRoot, 'docs', 'operations.md'), 'utf8');
  assert.match(doc, new RegExp(`exposure level[^\\n]*\\*\\*${m[1].replace('.', '\\.')}\\*\\*`),
    `docs/operations.md does not report the measured score ${m[1]}`);
});

// Collects sd_notify datagrams on a socket, as systemd does for
// Type=notify. Node has no AF_UNIX datagram sockets; python3 (which the
// build needs for meson anyway) does.
function notifyListener(path) {
  const py = spawn('python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    m = s.recv(4096).decode()
    print(m.replace("\\n", "|"), flush=True)
`, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const l = { messages: [], proc: py };
  let buf = '';
  l.bound = new Promise((res) => {
    py.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'bound') res();
        else l.messages.push(line);
      }
    });
  });
  l.waitFor = async (re, from = 0) => {
    for (let i = 0; i < 200; i++) {
      const k = l.messages.findIndex((m, j) => j >= from && re.test(m));
      if (k >= 0) return k;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail(`no notification matching ${re}; got ${JSON.stringify(l.messages)}`);
  };
  return l;
}

test('readiness, reload and stop are announced with sd_notify', async () => {
  const dir = tempDir();
  const sock = join(dir, 'notify');
  const l = notifyListener(sock);
  await l.bound;
  const s = new Server({ env: { NOTIFY_SOCKET: sock } });
  try {
    await s.start();
    const ready = await l.waitFor(/^READY=1\|STATUS=serving on https:\/\/127\.0\.0\.1:\d+\/$/);
    // readiness comes only once the socket accepts
    assert.equal((await s.fetch('/healthz')).status, 200);
    s.proc.kill('SIGHUP');
    const reloading = await l.waitFor(/^RELOADING=1\|MONOTONIC_USEC=\d+\|/, ready + 1);
    await l.waitFor(/^READY=1\|STATUS=serving$/, reloading + 1);
    const r = await s.stop();
    assert.equal(r.code, 0);
    await l.waitFor(/^STOPPING=1/, reloading + 1);
  } finally {
    await s.close();
    l.proc.kill();
  }
});

test('deploy/install stages binary, units, configuration and directories', () => {
  const root = tempDir('consort-root-');
  const r = spawnSync(join(repoRoot, 'deploy', 'install'), ['--root', root, '--binary', consortBin],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const f of ['usr/local/bin/consort', 'usr/local/lib/consort/consort-backup',
    'etc/systemd/system/consort.service', 'etc/systemd/system/consort-backup.service',
    'etc/systemd/system/consort-backup.timer', 'etc/consort/consort.conf',
    'etc/consort/consort.conf.example', 'usr/local/share/doc/consort/operations.md'])
    assert.ok(existsSync(join(root, f)), `${f} missing`);
  assert.equal(statSync(join(root, 'var/lib/consort')).mode & 0o777, 0o700);
  assert.equal(statSync(join(root, 'etc/consort/consort.conf')).mode & 0o777, 0o640);
  // the staged binary runs, and the shipped configuration parses
  const v = spawnSync(join(root, 'usr/local/bin/consort'), ['--version'], { encoding: 'utf8' });
  assert.match(v.stdout, /^consort /);
  // a second run keeps an edited configuration
  writeFileSync(join(root, 'etc/consort/consort.conf'), 'data = /srv/consort\n');
  const again = spawnSync(join(repoRoot, 'deploy', 'install'), ['--root', root, '--binary', consortBin],
    { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(join(root, 'etc/consort/consort.conf'), 'utf8'), 'data = /srv/consort\n');
});

test('consort-backup makes time-stamped backups, keeps the newest KEEP, and they restore', async () => {
  const dir = tempDir();
  const data = join(dir, 'data');
  const s = new Server({ dataDir: data });
  await s.start();
  await s.close();
  const backups = join(dir, 'backups');
  mkdirSync(backups);
  for (const d of ['20200101T000000Z', '20200102T000000Z', '20200103T000000Z', 'keep-me'])
    mkdirSync(join(backups, d));
  const r = spawnSync(join(repoRoot, 'deploy', 'consort-backup'), [data, backups, '2'],
    { encoding: 'utf8', env: { ...process.env, CONSORT: consortBin } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const left = readdirSync(backups).sort();
  assert.equal(left.length, 3, JSON.stringify(left));
  assert.equal(left[0], '20200103T000000Z');
  assert.match(left[1], /^\d{8}T\d{6}Z$/);
  assert.equal(left[2], 'keep-me', 'a directory that is not a backup was touched');
  assert.ok(existsSync(join(backups, left[1], 'consort.db')));
  const restore = spawnSync(consortBin, ['restore', join(backups, left[1]), '--data', join(dir, 'restored')],
    { encoding: 'utf8' });
  assert.equal(restore.status, 0, restore.stderr);
  // a bad KEEP changes nothing
  const bad = spawnSync(join(repoRoot, 'deploy', 'consort-backup'), [data, backups, '0'],
    { encoding: 'utf8', env: { ...process.env, CONSORT: consortBin } });
  assert.equal(bad.status, 2);
  assert.deepEqual(readdirSync(backups).sort(), left);
});
