// QR code (ISO/IEC 18004) for the authenticator enrolment link, drawn as
// SVG: byte mode, error correction level M, versions 1–15 (up to 412
// bytes: an otpauth:// URI is about 150). Written for consort so the
// secret never leaves the page for a QR service.
import { svg } from './dom.js';

// Level M per version: [EC codewords per block, blocks in group 1, data
// codewords per group-1 block, blocks in group 2 (one more codeword each)].
const BLOCKS_M = [null,
  [10, 1, 16, 0], [16, 1, 28, 0], [26, 1, 44, 0], [18, 2, 32, 0], [24, 2, 43, 0],
  [16, 4, 27, 0], [18, 4, 31, 0], [22, 2, 38, 2], [22, 3, 36, 2], [26, 4, 43, 1],
  [30, 1, 50, 4], [22, 6, 36, 2], [22, 8, 37, 1], [24, 4, 40, 5], [24, 5, 41, 5]];
const ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46],
  [6, 28, 50], [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70]];

// GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x <<= 1;
  if (x & 0x100) x ^= 0x11d;
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

function generator(degree) {
  let g = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(g.length + 1).fill(0);
    for (let j = 0; j < g.length; j++) {
      next[j] ^= g[j];
      next[j + 1] ^= mul(g[j], EXP[i]);
    }
    g = next;
  }
  return g;
}

function ecCodewords(data, degree) {
  const g = generator(degree);
  const rem = new Array(degree).fill(0);
  for (const b of data) {
    const factor = b ^ rem[0];
    rem.shift();
    rem.push(0);
    for (let i = 0; i < degree; i++) rem[i] ^= mul(g[i + 1], factor);
  }
  return rem;
}

function dataCapacity(v) {
  const [, n1, d1, n2] = BLOCKS_M[v];
  return n1 * d1 + n2 * (d1 + 1);
}

function encodeBits(bytes, v) {
  const bits = [];
  const push = (val, len) => { for (let i = len - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  push(0b0100, 4);
  push(bytes.length, v < 10 ? 8 : 16);
  for (const b of bytes) push(b, 8);
  const cap = dataCapacity(v) * 8;
  push(0, Math.min(4, cap - bits.length));
  while (bits.length % 8) bits.push(0);
  const out = [];
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; out.length < cap / 8; pad ^= 0xec ^ 0x11) out.push(pad);
  return out;
}

function interleave(data, v) {
  const [ec, n1, d1, n2] = BLOCKS_M[v];
  const blocks = [];
  let at = 0;
  for (let i = 0; i < n1 + n2; i++) {
    const len = d1 + (i < n1 ? 0 : 1);
    const d = data.slice(at, at + len);
    at += len;
    blocks.push({ d, e: ecCodewords(d, ec) });
  }
  const out = [];
  for (let i = 0; i <= d1; i++) for (const b of blocks) if (i < b.d.length) out.push(b.d[i]);
  for (let i = 0; i < ec; i++) for (const b of blocks) out.push(b.e[i]);
  return out;
}

function bch(data, poly, bits) {
  let rem = data;
  const top = 31 - Math.clz32(poly);
  for (let i = 0; i < bits; i++) rem = (rem << 1) ^ ((rem >>> (top - 1)) & 1 ? poly : 0);
  return (data << bits) | rem;
}

// The module matrix (true = dark) for `text`, or null when too long.
export function qrMatrix(text) {
  const bytes = [...new TextEncoder().encode(text)];
  let v = 1;
  while (v < BLOCKS_M.length && 4 + (v < 10 ? 8 : 16) + bytes.length * 8 > dataCapacity(v) * 8) v++;
  if (v >= BLOCKS_M.length) return null;
  const size = 17 + 4 * v;
  const dark = Array.from({ length: size }, () => new Array(size).fill(false));
  const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (r, c, on) => { dark[r][c] = on; fixed[r][c] = true; };

  for (const [r0, c0] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
    for (let r = -1; r <= 7; r++) {
      for (let c = -1; c <= 7; c++) {
        const rr = r0 + r;
        const cc = c0 + c;
        if (rr < 0 || cc < 0 || rr >= size || cc >= size) continue;
        const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
        set(rr, cc, ring !== 2 && ring !== 4);
      }
    }
  }
  for (let i = 8; i < size - 8; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
  const al = ALIGN[v];
  for (const r of al) {
    for (const c of al) {
      if ((r === 6 && c === 6) || (r === 6 && c === al[al.length - 1]) || (r === al[al.length - 1] && c === 6)) continue;
      for (let dr = -2; dr <= 2; dr++) for (let dc = -2; dc <= 2; dc++) set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }
  // Format areas are reserved now and written per mask below.
  for (let i = 0; i < 9; i++) { fixed[8][i] = true; fixed[i][8] = true; }
  for (let i = 0; i < 8; i++) { fixed[8][size - 1 - i] = true; fixed[size - 1 - i][8] = true; }
  set(size - 8, 8, true);
  if (v >= 7) {
    const vb = bch(v, 0x1f25, 12);
    for (let i = 0; i < 18; i++) {
      const on = ((vb >>> i) & 1) === 1;
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      set(b, a, on);
      set(a, b, on);
    }
  }

  const codewords = interleave(encodeBits(bytes, v), v);
  const order = [];
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((size - 1 - right) >> 1) % 2 === 0;
    for (let k = 0; k < size; k++) {
      const r = upward ? size - 1 - k : k;
      for (const c of [right, right - 1]) if (!fixed[r][c]) order.push([r, c]);
    }
  }
  const base = dark.map((row) => row.slice());
  order.forEach(([r, c], i) => {
    const byte = codewords[i >> 3];
    base[r][c] = byte !== undefined && ((byte >>> (7 - (i & 7))) & 1) === 1;
  });

  const masks = [
    (r, c) => (r + c) % 2 === 0, (r) => r % 2 === 0, (r, c) => c % 3 === 0, (r, c) => (r + c) % 3 === 0,
    (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0, (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
    (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0, (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0];
  let best = null;
  let bestScore = Infinity;
  for (let m = 0; m < 8; m++) {
    const g = base.map((row) => row.slice());
    for (const [r, c] of order) if (masks[m](r, c)) g[r][c] = !g[r][c];
    const fb = bch(m, 0x537, 10) ^ 0x5412; // level M is 00
    const bit = (i) => ((fb >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) g[i][8] = bit(i);
    g[7][8] = bit(6);
    g[8][8] = bit(7);
    g[8][7] = bit(8);
    for (let i = 9; i < 15; i++) g[8][14 - i] = bit(i);
    for (let i = 0; i < 8; i++) g[8][size - 1 - i] = bit(i);
    for (let i = 8; i < 15; i++) g[size - 15 + i][8] = bit(i);
    const s = penalty(g);
    if (s < bestScore) { bestScore = s; best = g; }
  }
  return best;
}

function penalty(g) {
  const n = g.length;
  let score = 0;
  let darkCount = 0;
  const line = (get) => {
    let run = 1;
    for (let i = 1; i <= n; i++) {
      if (i < n && get(i) === get(i - 1)) { run++; continue; }
      if (run >= 5) score += run - 2;
      run = 1;
    }
    for (let i = 0; i + 11 <= n; i++) {
      const p = [];
      for (let k = 0; k < 11; k++) p.push(get(i + k) ? 1 : 0);
      const s = p.join('');
      if (s === '10111010000' || s === '00001011101') score += 40;
    }
  };
  for (let r = 0; r < n; r++) {
    line((i) => g[r][i]);
    line((i) => g[i][r]);
    for (let c = 0; c < n; c++) {
      if (g[r][c]) darkCount++;
      if (r + 1 < n && c + 1 < n && g[r][c] === g[r][c + 1] && g[r][c] === g[r + 1][c] && g[r][c] === g[r + 1][c + 1]) score += 3;
    }
  }
  score += Math.floor(Math.abs((darkCount * 100) / (n * n) - 50) / 5) * 10;
  return score;
}

export function qrSvg(text) {
  const m = qrMatrix(text);
  if (!m) return null;
  const quiet = 4;
  const size = m.length + quiet * 2;
  let d = '';
  m.forEach((row, r) => {
    for (let c = 0; c < row.length;) {
      if (!row[c]) { c++; continue; }
      let e = c;
      while (e < row.length && row[e]) e++;
      d += `M${c + quiet} ${r + quiet}h${e - c}v1h${c - e}z`;
      c = e;
    }
  });
  return svg('svg', { viewBox: `0 0 ${size} ${size}`, width: size * 5, height: size * 5, 'aria-hidden': 'true', 'shape-rendering': 'crispEdges', class: 'qr-svg' },
    svg('rect', { width: size, height: size, class: 'qr-bg' }), svg('path', { d, class: 'qr-fg' }));
}
