// Editing news and events in place (issue 20), and SVG and WebP
// pictures through the image helper: who may edit (acl_may_edit_posted),
// the same validation as posting, the audit trail, an edited event
// keeping its iCalendar UID with a higher SEQUENCE (read by ical.js from
// the subscribed feed), and hostile SVGs (a script, references to a
// loopback listener that must see no connection) and damaged or
// bomb-sized pictures refused with 400, storing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import net from 'node:net';
import zlib from 'node:zlib';
import { Server } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, Session, request } from './lib/accounts.mjs';
import { recordSecret } from './lib/secrets.mjs';

let s, coord, comms, member, author;

before(async () => {
  s = await new Server().start();
  addPartner(s, 'CHR', { name: 'Charité Berlin', country: 'DE' });
  addPartner(s, 'UNIRM', { name: 'Sapienza University of Rome', country: 'IT' });
  addPartner(s, 'IPH', { name: 'Institute of Public Health', country: 'FR' });
  addUser(s, 'coord@chr.example', 'CHR', { coordinator: true, name: 'Carla Coordinator' });
  addUser(s, 'comms@unirm.example', 'UNIRM', { name: 'Marco Comms' });
  addUser(s, 'author@unirm.example', 'UNIRM', { name: 'Anna Author' });
  addUser(s, 'member@iph.example', 'IPH', { name: 'Mia Member' });
  addWp(s, 'WP1', { title: 'Coordination', lead: 'CHR' });
  addWp(s, 'WP2', { title: 'Secret trials', lead: 'UNIRM' });
  grant(s, 'WP1', { partner: 'IPH' }, 'read');
  grant(s, 'WP1', { partner: 'UNIRM' }, 'write');
  grant(s, 'WP2', { partner: 'UNIRM' }, 'write');
  coord = await Session.login(s, 'coord@chr.example');
  comms = await Session.login(s, 'comms@unirm.example');
  author = await Session.login(s, 'author@unirm.example');
  member = await Session.login(s, 'member@iph.example');
  const id = (email) => sql(s, `SELECT id FROM users WHERE email = '${email}'`)[0].id;
  for (const email of ['comms@unirm.example', 'author@unirm.example']) {
    const r = await coord.req('PUT', `/api/v1/users/${id(email)}/roles`, { json: { contact_roles: ['Communication'] } });
    assert.equal(r.status, 204, JSON.stringify(r.body));
  }
});

after(async () => { await s?.close(); });

const audits = (action) => sql(s, `SELECT count(*) AS n FROM audit WHERE action = '${action}'`)[0].n;

test('news: edited in place by its author, coordinators and communication; same validation', async () => {
  let r = await author.req('POST', '/api/v1/news', { json: { title: 'Kick-off', body: 'We *met*.' } });
  assert.equal(r.status, 201);
  const id = r.body.news.id;
  assert.equal(r.body.news.edited_at, null);
  // The author loses the Communication role: their own item stays theirs.
  const uid = sql(s, "SELECT id FROM users WHERE email = 'author@unirm.example'")[0].id;
  assert.equal((await coord.req('PUT', `/api/v1/users/${uid}/roles`, { json: { contact_roles: [] } })).status, 204);
  r = await author.req('PATCH', `/api/v1/news/${id}`, { json: { title: 'Kick-off in Rome' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.news.title, 'Kick-off in Rome');
  assert.equal(r.body.news.body, 'We *met*.', 'what is not sent stays');
  assert.match(r.body.news.edited_at, /^\d{4}-\d\d-\d\dT/);
  assert.equal(audits('news_edit'), 1);
  // But they may not post any more, nor edit someone else's.
  r = await comms.req('POST', '/api/v1/news', { json: { title: 'By comms', body: 'x' } });
  const other = r.body.news.id;
  r = await author.req('PATCH', `/api/v1/news/${other}`, { json: { title: 'Hijacked' } });
  assert.equal(r.status, 403);
  // Communication and coordinators edit any item.
  r = await comms.req('PATCH', `/api/v1/news/${id}`, { json: { body: 'We **met** in Rome. <script>alert(1)</script>' } });
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.body.news.html, /<script/);
  r = await coord.req('PATCH', `/api/v1/news/${id}`, { json: { title: 'Kick-off in Rome (photos)' } });
  assert.equal(r.status, 200);
  // Others may not; the list says who may.
  r = await member.req('PATCH', `/api/v1/news/${id}`, { json: { title: 'Mine now' } });
  assert.equal(r.status, 403);
  r = await member.req('GET', '/api/v1/news');
  assert.ok(r.body.news.every((n) => n.may_edit === false));
  r = await author.req('GET', '/api/v1/news');
  assert.deepEqual(r.body.news.map((n) => [n.id, n.may_edit]).sort(), [[id, true], [other, false]].sort());
  // Bad edits change nothing.
  const before = sql(s, `SELECT title, body, edited_at FROM news WHERE id = ${id}`);
  const n = audits('news_edit');
  for (const bad of [{ title: '' }, { title: 'x'.repeat(201) }, { body: 'x'.repeat(70000) }, { image: 999999 }, { image: 'x' }, { other: 1 }, { title: 'a\u202eb' }]) {
    r = await coord.req('PATCH', `/api/v1/news/${id}`, { json: bad });
    assert.ok(r.status === 400 || r.status === 413, `${JSON.stringify(bad).slice(0, 40)}: ${r.status}`);
  }
  assert.deepEqual(sql(s, `SELECT title, body, edited_at FROM news WHERE id = ${id}`), before);
  assert.equal(audits('news_edit'), n);
  assert.equal((await coord.req('PATCH', '/api/v1/news/999999', { json: { title: 'x' } })).status, 404);
  assert.equal((await coord.req('PATCH', '/api/v1/news/abc', { json: { title: 'x' } })).status, 404);
});

test('news: an edit swaps the picture, and the one it no longer shows is deleted', async () => {
  const send = (who, body) => who.req('POST', '/api/v1/images', { body, headers: { 'content-type': 'application/octet-stream' } });
  const a = (await send(comms, makePng(8, 8))).body.image;
  const b = (await send(comms, makePng(9, 9))).body.image;
  let r = await comms.req('POST', '/api/v1/news', { json: { title: 'Pictured', body: 'x', image: a.id } });
  const id = r.body.news.id;
  r = await comms.req('PATCH', `/api/v1/news/${id}`, { json: { image: b.id } });
  assert.equal(r.status, 200);
  assert.equal(r.body.news.image, b.src);
  assert.equal(sql(s, `SELECT count(*) AS n FROM images WHERE id = ${a.id}`)[0].n, 0);
  r = await comms.req('PATCH', `/api/v1/news/${id}`, { json: { image: null } });
  assert.equal(r.status, 200);
  assert.equal(r.body.news.image, null);
  assert.equal(sql(s, `SELECT count(*) AS n FROM images WHERE id = ${b.id}`)[0].n, 0);
});

function parseCalendar(text) {
  const comp = new ICAL.Component(ICAL.parse(text));
  return comp.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
}

test('events: an edit keeps the UID and raises SEQUENCE in the subscribed feed', async () => {
  const year = new Date().getUTCFullYear() + 1;
  let r = await comms.req('POST', '/api/v1/events', {
    json: { title: 'General Assembly', start: `${year}-04-27T09:00:00+02:00`, end: `${year}-04-28T17:00:00+02:00`, tz: 'Europe/Rome', place: 'Rome', wps: ['WP1'], folder: { wp: 'WP2', path: 'Meetings/GA' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ev = r.body.event;
  r = await member.req('POST', '/api/v1/me/calendar');
  recordSecret(r.body.secret);
  const feed = r.body.path;
  const inFeed = async () => parseCalendar((await request(s, 'GET', feed)).body).find((e) => e.uid.startsWith(`event-${ev.id}@`));
  let e0 = await inFeed();
  assert.equal(e0.summary, 'General Assembly');
  assert.equal(e0.sequence, 0);
  const lm0 = e0.component.getFirstPropertyValue('last-modified').toJSDate();

  await new Promise((res) => setTimeout(res, 1100)); // LAST-MODIFIED counts seconds
  // Moved by a day, in another zone's notation; the place changes; the folder and the WP link stay.
  r = await comms.req('PATCH', `/api/v1/events/${ev.id}`, { json: { start: `${year}-04-28T08:00:00+01:00`, end: `${year}-04-29T16:00:00+01:00`, place: 'Aula Magna, Rome' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.event.start, `${year}-04-28T07:00:00Z`);
  assert.equal(r.body.event.title, 'General Assembly');
  assert.deepEqual(r.body.event.folder, { wp: 'WP2', path: 'Meetings/GA' });
  assert.deepEqual(r.body.event.wps, ['WP1']);
  assert.match(r.body.event.edited_at, /^\d{4}-/);
  assert.equal(audits('event_edit'), 1);
  const e1 = await inFeed();
  assert.equal(e1.uid, e0.uid, 'the UID stays');
  assert.equal(e1.sequence, 1);
  assert.equal(e1.location, 'Aula Magna, Rome');
  assert.equal(e1.startDate.toJSDate().toISOString(), `${year}-04-28T07:00:00.000Z`);
  assert.ok(e1.component.getFirstPropertyValue('last-modified').toJSDate() > lm0);
  // The single .ics agrees.
  r = await comms.req('GET', `/api/v1/events/${ev.id}.ics`);
  const [single] = parseCalendar(r.body);
  assert.equal(single.uid, e0.uid);
  assert.equal(single.sequence, 1);

  // Bad edits: the same rules as posting; nothing changes, SEQUENCE stays.
  const row = () => sql(s, `SELECT title, starts_at, ends_at, tz, place, online_url, folder_path, sequence, edited_at FROM events WHERE id = ${ev.id}`);
  const before = row();
  for (const bad of [
    { end: `${year}-04-27T09:00:00Z` },
    { start: 'tomorrow' },
    { tz: 'Mars/Olympus' },
    { online_url: 'javascript:alert(1)' },
    { wps: ['WP9'] },
    { wps: 'WP1' },
    { folder: { wp: 'WP1', path: '../x' } },
    { folder: 'WP1' },
    { title: '' },
    { internal: 'yes' },
    { unknown: 1 },
  ]) {
    r = await comms.req('PATCH', `/api/v1/events/${ev.id}`, { json: bad });
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  assert.deepEqual(row(), before);
  assert.equal((await inFeed()).sequence, 1);

  // The member reads WP1 (a linked WP) so sees it, but may not edit it.
  r = await member.req('PATCH', `/api/v1/events/${ev.id}`, { json: { title: 'Mine' } });
  assert.equal(r.status, 403);
  // Unlinking WP1 hides it from them: an invisible event is missing.
  r = await comms.req('PATCH', `/api/v1/events/${ev.id}`, { json: { wps: [] } });
  assert.equal(r.status, 200);
  assert.equal(await inFeed(), undefined, 'no longer in the WP2 outsider\'s feed');
  r = await member.req('PATCH', `/api/v1/events/${ev.id}`, { json: { title: 'Mine' } });
  assert.equal(r.status, 404);
  // A new folder needs write access to its WP and is made; null removes it.
  r = await coord.req('PATCH', `/api/v1/events/${ev.id}`, { json: { folder: { wp: 'WP1', path: 'GA minutes' } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await coord.req('GET', '/api/v1/wps/WP1/tree/GA%20minutes')).status, 200);
  r = await coord.req('PATCH', `/api/v1/events/${ev.id}`, { json: { folder: null, internal: false } });
  assert.equal(r.status, 200);
  assert.equal(r.body.event.folder, undefined);
  assert.equal(r.body.event.internal, false);
  const e2 = await inFeed();
  assert.equal(e2.sequence, 4);
  assert.equal(e2.uid, e0.uid);
  assert.equal((await comms.req('PATCH', '/api/v1/events/999999', { json: { title: 'x' } })).status, 404);
});

// A PNG of w x h grey pixels; `idat` replaces the pixel data.
function makePng(w, h, { idat } = {}) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  let data = idat;
  if (!data) {
    const raw = Buffer.alloc((w + 1) * h, 0x80);
    for (let y = 0; y < h; y++) raw[y * (w + 1)] = 0;
    data = zlib.deflateSync(raw);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}
const pngSize = (buf) => [buf.readUInt32BE(16), buf.readUInt32BE(20)];

// A 1 x 1 lossless WebP (VP8L), and the same header declaring w x h.
const WEBP_1X1 = Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64');
function webpDeclaring(w, h) {
  const b = Buffer.from(WEBP_1X1);
  // After the signature byte 0x2f: 14 bits width - 1, 14 bits height - 1.
  const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14) | (b.readUInt32LE(21) & 0xf0000000);
  b.writeUInt32LE(bits >>> 0, 21);
  return b;
}

test('pictures: SVG and WebP are rasterised to PNG; scripts and external references do nothing', async () => {
  // A listener on loopback that must see no connection.
  let connections = 0;
  const listener = net.createServer((c) => { connections++; c.destroy(); });
  await new Promise((res) => listener.listen(0, '127.0.0.1', res));
  const port = listener.address().port;
  const url = `http://127.0.0.1:${port}`;
  try {
    const send = (body, short = 'CHR') => coord.req('PUT', `/api/v1/partners/${short}/logo`, { body, headers: { 'content-type': 'application/octet-stream' } });
    const images = () => sql(s, 'SELECT count(*) AS n FROM images')[0].n;

    // An external entity: librsvg does not load it, so the document is
    // refused (an undefined entity), and nothing is fetched.
    let r = await send(Buffer.from(`<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY ext SYSTEM "${url}/entity">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&ext;</text></svg>`));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.detail, /ext/);
    const hostile = `<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY local "inline text">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xi="http://www.w3.org/2001/XInclude" width="200" height="100" onload="fetch('${url}/onload')">
  <script>fetch('${url}/script')</script>
  <style>@import url("${url}/style.css"); rect { fill: url(${url}/paint#p) }</style>
  <rect width="200" height="100" fill="#c33"/>
  <image href="${url}/image.png" width="10" height="10"/>
  <image xlink:href="${url}/image2.png" width="10" height="10"/>
  <use href="${url}/sprite.svg#x"/>
  <xi:include href="${url}/include.xml" parse="text"/>
  <text x="5" y="50">&local;</text>
</svg>`;
    r = await send(Buffer.from(hostile));
    assert.equal(r.status, 201, JSON.stringify(r.body));
    {
      assert.deepEqual([r.body.image.width, r.body.image.height], [200, 100]);
      const img = await s.fetch(r.body.image.src, { headers: { cookie: `__Host-consort=${coord.cookie}` } });
      assert.equal(img.headers.get('content-type'), 'image/png');
      const bytes = Buffer.from(await img.arrayBuffer());
      assert.deepEqual(pngSize(bytes), [200, 100]);
      assert.ok(!bytes.includes('fetch('), 'pixels only');
    }
    // A plain SVG with a script: a PNG logo, its size as declared.
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><script>alert(1)</script><rect width="64" height="32" fill="blue"/></svg>';
    r = await send(Buffer.from(svg), 'UNIRM');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([r.body.image.width, r.body.image.height], [64, 32]);
    r = await member.req('GET', '/api/v1/partners/UNIRM');
    assert.match(r.body.partner.logo, /^\/api\/v1\/images\/\d+$/);
    // A huge declared size is rendered at the limit, never at its size.
    r = await send(Buffer.from('\ufeff<!-- a logo -->\n<svg xmlns="http://www.w3.org/2000/svg" width="1000000" height="500000" viewBox="0 0 2 1"><rect width="2" height="1"/></svg>'), 'UNIRM');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([r.body.image.width, r.body.image.height], [512, 256]);
    // WebP.
    r = await send(WEBP_1X1, 'IPH');
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual([r.body.image.width, r.body.image.height], [1, 1]);

    // Bad input of a known format: 400 with a reason; nothing stored.
    const n = images();
    const logo = sql(s, "SELECT logo_image_id AS l FROM partners WHERE short = 'IPH'");
    const good = makePng(40, 20);
    for (const [what, body, reason] of [
      ['truncated PNG', good.subarray(0, good.length - 30), /./],
      ['PNG declaring 100000 x 100000', makePng(100000, 100000, { idat: zlib.deflateSync(Buffer.alloc(64)) }), /dimensions are too large/],
      ['WebP declaring 16384 x 16384', webpDeclaring(16384, 16384), /dimensions are too large/],
      ['truncated WebP', WEBP_1X1.subarray(0, 24), /./],
      ['broken SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><rect'), /./],
    ]) {
      r = await send(body, 'IPH');
      assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(r.body.detail, reason, what);
    }
    // Not a format taken: 415.
    for (const [what, body] of [['XML that is not SVG', '<html><svg></svg></html>'], ['svgz', zlib.gzipSync(svg)], ['text', 'hello']]) {
      r = await send(Buffer.from(body), 'IPH');
      assert.equal(r.status, 415, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    assert.equal(images(), n);
    assert.deepEqual(sql(s, "SELECT logo_image_id AS l FROM partners WHERE short = 'IPH'"), logo);
    // Give any stray fetch a moment to arrive before counting.
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(connections, 0, 'the image helper contacted nothing');
    // The listener does count a connection (so 0 above means none came).
    await new Promise((res, rej) => net.connect(port, '127.0.0.1', res).on('error', rej));
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(connections, 1);
  } finally {
    listener.close();
  }
});
