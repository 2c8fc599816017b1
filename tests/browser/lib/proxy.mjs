// A TCP proxy between Chromium and the server, to make the network
// misbehave on purpose: limit the upload rate (so progress can be
// watched), cut every open connection, refuse new ones for a while.
// TLS passes through untouched.
import net from 'node:net';
import { freePort } from '../../e2e/lib/server.mjs';

export async function startProxy(targetPort, { rate = 0 } = {}) {
  const port = await freePort();
  const sockets = new Set();
  let downUntil = 0;
  const state = { forwarded: 0, rate, cuts: 0 };
  const server = net.createServer((client) => {
    if (Date.now() < downUntil) { client.destroy(); return; }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let windowStart = Date.now();
    let windowBytes = 0;
    client.on('data', (d) => {
      state.forwarded += d.length;
      upstream.write(d);
      if (state.rate > 0) {
        windowBytes += d.length;
        const elapsed = Date.now() - windowStart;
        const due = (windowBytes / state.rate) * 1000;
        if (due > elapsed) {
          client.pause();
          setTimeout(() => client.resume(), due - elapsed);
        }
        if (elapsed > 1000) { windowStart = Date.now(); windowBytes = 0; }
      }
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((res) => server.listen(port, '127.0.0.1', res));
  return {
    port,
    url: `https://127.0.0.1:${port}`,
    state,
    setRate(r) { state.rate = r; },
    // Cut every connection now and refuse new ones for `ms`.
    cut(ms = 0) {
      state.cuts += 1;
      downUntil = Date.now() + ms;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((res) => server.close(res));
    },
  };
}
