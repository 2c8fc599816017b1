// A real clamd for the scanning tests (docs/scanning.md), started by the
// test: a config file of its own in a temp dir, a unix socket,
// StreamMaxLength 1M, and a signature database written here from the
// EICAR string (an .ndb body signature); no freshclam, no download.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { tempDir, trackChild } from './server.mjs';

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const hex = (s) => Buffer.from(s).toString('hex');

function clamdAsk(sock, cmd) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let out = '';
    c.on('data', (d) => { out += d; });
    c.on('end', () => resolve(out.replace(/\0$/, '')));
    c.on('error', reject);
    c.end(`z${cmd}\0`);
  });
}

export async function startClamd() {
  const dir = tempDir('consort-clamd-');
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'eicar.ndb'), `Eicar-Test-Signature:0:*:${hex(EICAR)}\n`);
  const sock = join(dir, 'clamd.sock');
  writeFileSync(join(dir, 'clamd.conf'), [
    'Foreground yes', `LocalSocket ${sock}`, `DatabaseDirectory ${join(dir, 'db')}`,
    `LogFile ${join(dir, 'clamd.log')}`, `TemporaryDirectory ${dir}`, 'StreamMaxLength 1M', '',
  ].join('\n'));
  let proc, exited;
  const start = async () => {
    proc = trackChild(spawn('clamd', ['-c', join(dir, 'clamd.conf')], { stdio: 'ignore' }));
    exited = new Promise((r) => proc.on('exit', r));
    const deadline = Date.now() + 30000;
    for (;;) {
      try { if (/ClamAV/.test(await clamdAsk(sock, 'VERSION'))) break; } catch { /* not yet */ }
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error('clamd did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    dir, sock,
    async stop() { if (proc.exitCode === null) { proc.kill('SIGKILL'); await exited; } },
    // Again after stop(), same socket and signatures (it removes the stale socket).
    start,
    // SIGSTOP: a hung clamd (connections still queue, nothing answers); SIGCONT.
    signal(sig) { proc.kill(sig); },
    async addSignature(name, text) {
      writeFileSync(join(dir, 'db', 'extra.ndb'), `${name}:0:*:${hex(text)}\n`);
      await clamdAsk(sock, 'RELOAD');
      // RELOAD answers at once; wait until the new signature matches.
      const until = Date.now() + 20000;
      while (Date.now() < until) {
        const r = await new Promise((resolve) => {
          const c = net.createConnection(sock);
          let out = '';
          c.on('data', (d) => { out += d; });
          c.on('end', () => resolve(out));
          c.on('error', () => resolve(''));
          const b = Buffer.from(text);
          const len = Buffer.alloc(4); len.writeUInt32BE(b.length);
          c.end(Buffer.concat([Buffer.from('zINSTREAM\0'), len, b, Buffer.alloc(4)]));
        });
        if (r.includes(name)) return;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('the new signature was not loaded');
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}
