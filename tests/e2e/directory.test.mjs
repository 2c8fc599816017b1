// The consortium's own pages (docs/directory.md): the directory of
// partners and people with counts and filters, news with its Markdown
// made safe, events with time zones, folders and work packages, the
// single-event .ics and the per-person secret calendar feed, parsed by
// a real iCalendar parser (ical.js); and who sees what: members see
// members, an internal event of a work package never reaches someone
// who cannot read it (app, .ics, feed), outsiders see nothing, a revoked
// feed URL answers nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ICAL from 'ical.js';
import { rmSync } from 'node:fs';
import zlib from 'node:zlib';
import { Server, runConsort, parseResponses } from './lib/server.mjs';
import { addPartner, addUser, addWp, grant, sql, sha256hex, Session, request } from './lib/accounts.mjs';
import { recordSecret } from './lib/secrets.mjs';

let s, coord, comms, member, nobody;

before(async () => {
  s = await new Server().start();
  addPartner(s, 'CHR', { name: 'Charité Berlin', country: 'DE' });
  addPartner(s, 'UNIRM', { name: 'Sapienza University of Rome', country: 'IT' });
  addPartner(s, 'IPH', { name: 'Institute of Public Health', country: 'FR' });
  addUser(s, 'coord@chr.example', 'CHR', { coordinator: true, name: 'Carla Coordinator' });
  addUser(s, 'comms@unirm.example', 'UNIRM', { name: 'Marco Comms' });
  addUser(s, 'member@iph.example', 'IPH', { name: 'Mia Member' });
  addWp(s, 'WP1', { title: 'Coordination', lead: 'CHR' });
  addWp(s, 'WP2', { title: 'Secret trials', lead: 'UNIRM' });
  grant(s, 'WP1', { partner: 'IPH' }, 'read');
  grant(s, 'WP1', { user: 'comms@unirm.example' }, 'write');
  grant(s, 'WP2', { partner: 'UNIRM' }, 'write');
  // A person who reads no work package at all.
  addPartner(s, 'MIN', { name: 'Ministry of Health', country: 'IT' });
  addUser(s, 'nobody@min.example', 'MIN', { name: 'Nobody Reads' });
  coord = await Session.login(s, 'coord@chr.example');
  comms = await Session.login(s, 'comms@unirm.example');
  member = await Session.login(s, 'member@iph.example');
  nobody = await Session.login(s, 'nobody@min.example');
});

after(async () => { await s?.close(); });

test('coordinators fill in the directory; bad values change nothing', async () => {
  let r = await coord.req('PATCH', '/api/v1/partners/CHR', {
    json: { type: 'cancer_centre', role: 'coordinator', city: 'Berlin', website: 'https://www.charite.de', description: 'University hospital.' },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.partner.type, 'cancer_centre');
  assert.equal(r.body.partner.city, 'Berlin');
  r = await coord.req('PATCH', '/api/v1/partners/UNIRM', { json: { type: 'university', city: 'Rome' } });
  assert.equal(r.status, 200);
  r = await coord.req('PATCH', '/api/v1/partners/IPH', { json: { type: 'public_health', city: 'Paris', role: 'affiliated' } });
  assert.equal(r.status, 200);
  r = await coord.req('PATCH', '/api/v1/partners/MIN', { json: { type: 'ministry', city: 'Rome', role: 'associated' } });
  assert.equal(r.status, 200);

  for (const bad of [{ type: 'castle' }, { role: 'king' }, { website: 'javascript:alert(1)' }, {}, { city: 'x'.repeat(101) }, { colour: 'red' }]) {
    r = await coord.req('PATCH', '/api/v1/partners/CHR', { json: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.body.error, 'invalid_request');
  }
  r = await coord.req('PATCH', '/api/v1/partners/NOPE', { json: { city: 'x' } });
  assert.equal(r.status, 404);
  assert.deepEqual(sql(s, "SELECT type, role, city, website FROM partners WHERE short = 'CHR'"),
    [{ type: 'cancer_centre', role: 'coordinator', city: 'Berlin', website: 'https://www.charite.de' }]);
  // Only coordinators.
  r = await member.req('PATCH', '/api/v1/partners/IPH', { json: { city: 'Lyon' } });
  assert.equal(r.status, 403);

  // People's role lines and contact roles.
  const id = (email) => sql(s, `SELECT id FROM users WHERE email = '${email}'`)[0].id;
  r = await coord.req('PUT', `/api/v1/users/${id('comms@unirm.example')}/roles`,
    { json: { role_line: 'Press officer', contact_roles: ['Communication', 'WP2 lead'] } });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  r = await coord.req('PUT', `/api/v1/users/${id('coord@chr.example')}/roles`,
    { json: { contact_roles: ['Project coordinator'] } });
  assert.equal(r.status, 204);
  for (const bad of [{ contact_roles: 'Communication' }, { contact_roles: [1] }, { contact_roles: ['a\nb'] }, {}, { role_line: 5 }]) {
    r = await coord.req('PUT', `/api/v1/users/${id('member@iph.example')}/roles`, { json: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
  assert.deepEqual(sql(s, `SELECT count(*) AS n FROM contact_roles WHERE user_id = ${id('member@iph.example')}`), [{ n: 0 }]);
  r = await member.req('PUT', `/api/v1/users/${id('member@iph.example')}/roles`, { json: { contact_roles: ['Communication'] } });
  assert.equal(r.status, 403);
});

test('the directory: counts from the data, key contacts, filters, readable WPs only', async () => {
  let r = await member.req('GET', '/api/v1/directory');
  assert.equal(r.status, 200);
  const d = r.body;
  assert.equal(d.counts.partners, 4);
  assert.equal(d.counts.countries, 3);
  assert.deepEqual(d.counts.types, { cancer_centre: 1, university: 1, public_health: 1, ministry: 1 });
  assert.equal(d.counts.roles.coordinator, 1);
  assert.deepEqual(d.partners.map((p) => p.short), ['CHR', 'IPH', 'MIN', 'UNIRM']); // by country
  assert.deepEqual(d.key_contacts.map((p) => p.name).sort(), ['Carla Coordinator', 'Marco Comms']);
  const marco = d.key_contacts.find((p) => p.name === 'Marco Comms');
  assert.deepEqual(marco.contact_roles, ['Communication', 'WP2 lead']);
  assert.equal(marco.role_line, 'Press officer');
  // The member reads WP1 only: UNIRM's WP2 (which it leads) is not shown.
  const unirm = d.partners.find((p) => p.short === 'UNIRM');
  assert.deepEqual(unirm.wps, []);
  assert.deepEqual(d.partners.find((p) => p.short === 'CHR').wps, [{ code: 'WP1', title: 'Coordination', lead: true }]);
  assert.deepEqual(d.partners.find((p) => p.short === 'IPH').people.map((p) => p.name), ['Mia Member']);
  // The coordinator sees WP2 and its lead.
  r = await coord.req('GET', '/api/v1/directory');
  assert.deepEqual(r.body.partners.find((p) => p.short === 'UNIRM').wps, [{ code: 'WP2', title: 'Secret trials', lead: true }]);
  // Filters.
  r = await member.req('GET', '/api/v1/directory?type=ministry');
  assert.deepEqual(r.body.partners.map((p) => p.short), ['MIN']);
  assert.equal(r.body.counts.partners, 4, 'counts stay those of the consortium');
  r = await member.req('GET', '/api/v1/directory?wp=WP1');
  assert.deepEqual(r.body.partners.map((p) => p.short), ['CHR', 'IPH']);
  // A partner's page.
  r = await member.req('GET', '/api/v1/partners/chr');
  assert.equal(r.status, 200);
  assert.equal(r.body.partner.name, 'Charité Berlin');
  assert.equal(r.body.partner.website, 'https://www.charite.de');
  assert.deepEqual(r.body.partner.people.map((p) => p.email), ['coord@chr.example']);
  r = await member.req('GET', '/api/v1/partners/NOPE');
  assert.equal(r.status, 404);
  // Outsiders: nothing.
  for (const path of ['/api/v1/directory', '/api/v1/partners/CHR', '/api/v1/news', '/api/v1/events', '/api/v1/events/1.ics']) {
    r = await request(s, 'GET', path);
    assert.equal(r.status, 401, path);
  }
});

test('the directory in search answers, apart from documents', async () => {
  let r = await member.req('GET', '/api/v1/search?q=rome');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.directory.filter((h) => h.kind === 'partner').map((h) => h.key).sort(), ['MIN', 'UNIRM']);
  r = await member.req('GET', '/api/v1/search?q=press%20officer');
  assert.deepEqual(r.body.directory.map((h) => [h.kind, h.key]), [['person', 'comms@unirm.example']]);
  r = await member.req('GET', '/api/v1/search?q=communication');
  assert.deepEqual(r.body.directory.map((h) => h.key), ['comms@unirm.example']);
  // Work packages: only readable ones.
  r = await member.req('GET', '/api/v1/search?q=secret');
  assert.deepEqual(r.body.directory, []);
  r = await coord.req('GET', '/api/v1/search?q=secret');
  assert.deepEqual(r.body.directory.map((h) => [h.kind, h.key]), [['wp', 'WP2']]);
  r = await member.req('GET', '/api/v1/search?q=coordination');
  assert.deepEqual(r.body.directory.map((h) => [h.kind, h.key]), [['wp', 'WP1']]);
  r = await request(s, 'GET', '/api/v1/search?q=rome');
  assert.equal(r.status, 401);
});

test('news: only coordinators and communication contacts post; Markdown is made safe', async () => {
  let r = await member.req('POST', '/api/v1/news', { json: { title: 'Hi', body: 'x' } });
  assert.equal(r.status, 403);
  const body = [
    '# Kick-off in Rome',
    '',
    'The **kick-off** took place. <script>alert(1)</script>',
    '',
    '<img src="https://tracker.example/pixel.gif" onerror="alert(2)">',
    '',
    '[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD4=) [proto](//evil.example/x)',
    '',
    '![remote logo](https://evil.example/logo.png) ![our photo](/api/v1/wps/WP1/content/photos/rome.png)',
    '',
    '[the minutes](/#/wp/WP1/Meetings/minutes.pdf) and [the site](https://canheal.eu) <a href="javascript:x()">raw</a>',
    '',
    '<div onclick="steal()">raw block</div>',
  ].join('\n');
  r = await comms.req('POST', '/api/v1/news', { json: { title: 'Kick-off meeting', body } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const html = r.body.news.html;
  assert.match(html, /<h1>Kick-off in Rome<\/h1>/);
  assert.match(html, /<strong>kick-off<\/strong>/);
  assert.doesNotMatch(html, /<script|onerror|onclick|javascript:|data:text|tracker\.example|evil\.example|<div|<img src="https/i);
  assert.match(html, /<a href="">click<\/a>/);
  assert.match(html, /remote logo/, 'a remote image leaves its alternative text');
  assert.match(html, /<img src="\/api\/v1\/wps\/WP1\/content\/photos\/rome.png" alt="our photo"/);
  assert.match(html, /<a href="\/#\/wp\/WP1\/Meetings\/minutes.pdf">the minutes<\/a>/);
  assert.match(html, /<a href="https:\/\/canheal.eu">the site<\/a>/);
  assert.equal(r.body.news.body, body, 'the source is kept as written');
  assert.equal(r.body.news.author, 'Marco Comms');

  r = await coord.req('POST', '/api/v1/news', { json: { title: 'General Assembly announced', body: 'See you in *Rome*.' } });
  assert.equal(r.status, 201);
  // Bad input: nothing stored.
  const before = sql(s, 'SELECT count(*) AS n FROM news')[0].n;
  for (const bad of [{ title: '', body: 'x' }, { title: 'x' }, { title: 'x', body: 'y', extra: 1 }, { title: 'x'.repeat(201), body: 'y' }, { title: 'x', body: 'y'.repeat(70000) }]) {
    r = await coord.req('POST', '/api/v1/news', { json: bad });
    assert.ok(r.status === 400 || r.status === 413, `${JSON.stringify(bad).slice(0, 60)}: ${r.status}`);
  }
  assert.equal(sql(s, 'SELECT count(*) AS n FROM news')[0].n, before);

  r = await member.req('GET', '/api/v1/news');
  assert.equal(r.status, 200);
  assert.equal(r.body.total, 2);
  assert.deepEqual(r.body.news.map((n) => n.title), ['General Assembly announced', 'Kick-off meeting']);
  assert.equal(r.body.may_post, false);
  r = await member.req('GET', '/api/v1/news?limit=1&offset=1');
  assert.deepEqual(r.body.news.map((n) => n.title), ['Kick-off meeting']);
  r = await member.req('GET', '/api/v1/news?limit=0');
  assert.equal(r.status, 400);
  const id = r.body && (await member.req('GET', '/api/v1/news')).body.news[0].id;
  r = await member.req('DELETE', `/api/v1/news/${id}`);
  assert.equal(r.status, 403);
  r = await comms.req('DELETE', `/api/v1/news/${id}`);
  assert.equal(r.status, 204);
  r = await comms.req('DELETE', `/api/v1/news/${id}`);
  assert.equal(r.status, 404);
});

// Events of the test, created once.
const ev = {};

test('events: time zones, folder, work packages; bad input changes nothing', async () => {
  const count = () => sql(s, 'SELECT count(*) AS n FROM events')[0].n;
  const year = new Date().getUTCFullYear() + 1;
  // A General Assembly in Rome, internal to WP2, with its folder in WP2.
  let r = await coord.req('POST', '/api/v1/events', {
    json: {
      title: 'General Assembly; Rome, spring', start: `${year}-04-27T09:00:00+02:00`, end: `${year}-04-28T17:30:00+02:00`,
      tz: 'Europe/Rome', place: 'Aula Magna, Sapienza', internal: true, wps: ['WP2'],
      folder: { wp: 'WP2', path: 'Meetings/GA Rome' },
      description: 'Agenda: budget, trials, work plan.\nBring your slides; the room has a projector. ' + 'Long line for folding, with commas, semicolons; and ünïcödé. '.repeat(4),
    },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  ev.ga = r.body.event;
  assert.equal(ev.ga.start, `${year}-04-27T07:00:00Z`);
  assert.equal(ev.ga.end, `${year}-04-28T15:30:00Z`);
  assert.deepEqual(ev.ga.folder, { wp: 'WP2', path: 'Meetings/GA Rome' });
  assert.deepEqual(ev.ga.wps, ['WP2']);
  // The folder exists now.
  r = await coord.req('GET', '/api/v1/wps/WP2/tree/Meetings/GA%20Rome');
  assert.equal(r.status, 200);

  // A public online session given in New York time (UTC-4 in May... -05:00 here in winter form).
  r = await comms.req('POST', '/api/v1/events', {
    json: { title: 'Stakeholder session', start: `${year}-01-15T10:00-05:00`, end: `${year}-01-15T11:30-05:00`, tz: 'America/New_York', online_url: 'https://meet.example/abc', internal: false },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  ev.public = r.body.event;
  assert.equal(ev.public.start, `${year}-01-15T15:00:00Z`);
  // An internal event of no work package: every member.
  r = await comms.req('POST', '/api/v1/events', { json: { title: 'Consortium call', start: `${year}-02-01T14:00:00Z`, end: `${year}-02-01T15:00:00Z`, tz: 'UTC' } });
  assert.equal(r.status, 201);
  ev.call = r.body.event;
  // A past event, a month ago (the feed keeps the last 400 days).
  const ago = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
  r = await comms.req('POST', '/api/v1/events', { json: { title: 'Kick-off', start: `${ago}T09:00:00+01:00`, end: `${ago}T17:00:00+01:00`, tz: 'Europe/Berlin', internal: false } });
  assert.equal(r.status, 201);
  ev.past = r.body.event;

  const n = count();
  const good = { title: 'x', start: `${year}-03-01T10:00:00Z`, end: `${year}-03-01T11:00:00Z`, tz: 'UTC' };
  for (const bad of [
    { ...good, end: `${year}-03-01T09:00:00Z` },
    { ...good, start: 'tomorrow' },
    { ...good, start: `${year}-03-01T10:00:00+25:00` },
    { ...good, tz: 'Mars/Olympus' },
    { ...good, tz: '../../etc/passwd' },
    { ...good, online_url: 'javascript:alert(1)' },
    { ...good, wps: ['WP9'] },
    { ...good, wps: 'WP1' },
    { ...good, folder: { wp: 'WP1', path: '' } },
    { ...good, folder: { wp: 'WP1', path: '../x' } },
    { ...good, title: '' },
  ]) {
    r = await comms.req('POST', '/api/v1/events', { json: bad });
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  // A folder in a WP the poster cannot write; WPs they cannot read.
  r = await comms.req('POST', '/api/v1/events', { json: { ...good, folder: { wp: 'WP1', path: 'ok' }, wps: ['WP2'] } });
  assert.equal(r.status, 201, 'comms writes WP1 and reads WP2');
  await comms.req('DELETE', `/api/v1/events/${r.body.event.id}`);
  r = await member.req('POST', '/api/v1/events', { json: good });
  assert.equal(r.status, 403);
  grant(s, 'WP1', { user: 'comms@unirm.example' }, 'read');
  r = await comms.req('POST', '/api/v1/events', { json: { ...good, folder: { wp: 'WP1', path: 'nope' } } });
  assert.equal(r.status, 403);
  assert.equal(count(), n);
});

test('events: an internal event of a WP is seen only by its readers', async () => {
  let r = await member.req('GET', '/api/v1/events');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.events.map((e) => e.title), ['Stakeholder session', 'Consortium call']);
  r = await member.req('GET', '/api/v1/events?all=1');
  assert.deepEqual(r.body.events.map((e) => e.title), ['Kick-off', 'Stakeholder session', 'Consortium call']);
  r = await comms.req('GET', '/api/v1/events');
  assert.deepEqual(r.body.events.map((e) => e.title), ['Stakeholder session', 'Consortium call', 'General Assembly; Rome, spring']);
  r = await member.req('GET', `/api/v1/events/${ev.ga.id}`);
  assert.equal(r.status, 404);
  r = await member.req('GET', `/api/v1/events/${ev.ga.id}.ics`);
  assert.equal(r.status, 404);
  r = await member.req('GET', '/api/v1/events/999999.ics');
  assert.equal(r.status, 404);
  r = await member.req('GET', `/api/v1/events/${ev.public.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.event.online_url, 'https://meet.example/abc');
});

function parseCalendar(text) {
  const comp = new ICAL.Component(ICAL.parse(text));
  assert.equal(comp.name, 'vcalendar');
  assert.equal(comp.getFirstPropertyValue('version'), '2.0');
  return comp.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v));
}

test('a single event as .ics: RFC 5545 read by ical.js, times in UTC, text escaped and folded', async () => {
  const r = await coord.req('GET', `/api/v1/events/${ev.ga.id}.ics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/calendar/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const text = r.body;
  for (const line of text.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, `line over 75 octets: ${line}`);
  assert.ok(text.endsWith('END:VCALENDAR\r\n'));
  assert.doesNotMatch(text.replace(/\r\n/g, ''), /\n/, 'every line ends in CRLF');
  const [e] = parseCalendar(text);
  assert.equal(e.summary, 'General Assembly; Rome, spring');
  assert.equal(e.location, 'Aula Magna, Sapienza');
  assert.equal(e.startDate.toJSDate().toISOString(), ev.ga.start.replace('Z', '.000Z'));
  assert.equal(e.endDate.toJSDate().toISOString(), ev.ga.end.replace('Z', '.000Z'));
  assert.ok(e.startDate.zone === ICAL.Timezone.utcTimezone);
  assert.match(e.description, /^Agenda: budget, trials, work plan\.\nBring your slides; the room/);
  assert.match(e.description, /ünïcödé/);
  assert.match(e.description, /Agenda and minutes: WP2\/Meetings\/GA Rome$/);
  assert.match(e.uid, new RegExp(`^event-${ev.ga.id}@`));
  assert.ok(e.component.getFirstPropertyValue('dtstamp'));
});

test('the calendar feed: a secret URL per person, only what they may see, revocable', async () => {
  let r = await member.req('GET', '/api/v1/me/calendar');
  assert.deepEqual(r.body, { active: false, created_at: null });
  r = await member.req('POST', '/api/v1/me/calendar');
  assert.equal(r.status, 201);
  const path = r.body.path;
  recordSecret(r.body.secret);
  assert.match(path, /^\/calendar\/[A-Za-z0-9_-]{43}\.ics$/);
  // Stored hashed only.
  assert.ok(sql(s, 'SELECT hex(secret_hash) AS h FROM calendar_feeds').some((row) => row.h === sha256hex(r.body.secret).toUpperCase()));
  r = await member.req('GET', '/api/v1/me/calendar');
  assert.equal(r.body.active, true);

  // A calendar client fetches it without credentials.
  r = await request(s, 'GET', path);
  assert.equal(r.status, 200);
  let events = parseCalendar(r.body);
  assert.deepEqual(events.map((e) => e.summary).sort(), ['Consortium call', 'Kick-off', 'Stakeholder session']);
  const pub = events.find((e) => e.summary === 'Stakeholder session');
  assert.equal(pub.startDate.toJSDate().toISOString(), ev.public.start.replace('Z', '.000Z'));
  assert.equal(pub.location, 'https://meet.example/abc');
  assert.equal(pub.component.getFirstPropertyValue('x-consort-tzid'), 'America/New_York');
  assert.ok(!r.body.includes('General Assembly'), 'an internal WP2 event is not in a WP2 outsider\'s feed');

  // comms reads WP2: the assembly is in their feed.
  r = await comms.req('POST', '/api/v1/me/calendar');
  recordSecret(r.body.secret);
  r = await request(s, 'GET', r.body.path);
  assert.ok(parseCalendar(r.body).some((e) => e.summary === 'General Assembly; Rome, spring'));
  // Losing the grant takes it out of the feed at once.
  sql(s, "DELETE FROM grants WHERE wp_id = (SELECT id FROM wps WHERE code = 'WP2')");
  r = await request(s, 'GET', (await comms.req('POST', '/api/v1/me/calendar')).body.path);
  assert.ok(!parseCalendar(r.body).some((e) => e.summary.startsWith('General Assembly')));

  // A new URL replaces the old one; revoking ends it; garbage is 404.
  r = await member.req('POST', '/api/v1/me/calendar');
  const path2 = r.body.path;
  recordSecret(r.body.secret);
  assert.equal((await request(s, 'GET', path)).status, 404);
  assert.equal((await request(s, 'GET', path2)).status, 200);
  r = await member.req('DELETE', '/api/v1/me/calendar');
  assert.equal(r.status, 204);
  assert.equal((await request(s, 'GET', path2)).status, 404);
  assert.equal((await member.req('DELETE', '/api/v1/me/calendar')).status, 404);
  for (const p of ['/calendar/x.ics', `/calendar/${'A'.repeat(43)}.ics`, `/calendar/${'A'.repeat(43)}`, '/calendar/%00.ics'])
    assert.equal((await request(s, 'GET', p)).status, p.includes('%00') ? 400 : 404, p);
  // A disabled account's feed stops.
  r = await nobody.req('POST', '/api/v1/me/calendar');
  recordSecret(r.body.secret);
  assert.equal((await request(s, 'GET', r.body.path)).status, 200);
  sql(s, "UPDATE users SET disabled = 1 WHERE email = 'nobody@min.example'");
  assert.equal((await request(s, 'GET', r.body.path)).status, 404);
  // The access log does not show the secret.
  assert.ok(!s.log.includes(path2.slice(10, 53)));
});

test('consort partner add/set and user roles take the directory fields; a bad one changes nothing', () => {
  let r = runConsort(['partner', 'add', '--data', s.dataDir, '--short', 'PATS', '--name', 'Patients Europe', '--country', 'be',
    '--type', 'patient_org', '--role', 'associated', '--city', 'Brussels', '--website', 'https://patients.example']);
  assert.equal(r.status, 0, r.stderr);
  r = runConsort(['partner', 'set', '--data', s.dataDir, '--short', 'PATS', '--description', 'Voice of the patients.']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sql(s, "SELECT type, role, city, website, description FROM partners WHERE short = 'PATS'"),
    [{ type: 'patient_org', role: 'associated', city: 'Brussels', website: 'https://patients.example', description: 'Voice of the patients.' }]);
  r = runConsort(['partner', 'add', '--data', s.dataDir, '--short', 'BAD', '--name', 'Bad', '--country', 'BE', '--website', 'javascript:alert(1)']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /website/);
  assert.deepEqual(sql(s, "SELECT count(*) AS n FROM partners WHERE short = 'BAD'"), [{ n: 0 }]);
  r = runConsort(['partner', 'set', '--data', s.dataDir, '--short', 'PATS', '--type', 'castle']);
  assert.equal(r.status, 1);
  r = runConsort(['partner', 'set', '--data', s.dataDir, '--short', 'NOPE', '--city', 'X']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no partner 'NOPE'/);
  r = runConsort(['partner', 'set', '--data', s.dataDir, '--short', 'PATS']);
  assert.equal(r.status, 2);
  // People's roles.
  r = runConsort(['user', 'roles', '--data', s.dataDir, '--email', 'member@iph.example', '--role-line', 'Epidemiologist', '--contact-roles', 'WP1 lead, , Data protection ']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sql(s, "SELECT role FROM contact_roles r JOIN users u ON u.id = r.user_id WHERE u.email = 'member@iph.example' ORDER BY role").map((x) => x.role),
    ['Data protection', 'WP1 lead']);
  r = runConsort(['user', 'roles', '--data', s.dataDir, '--email', 'member@iph.example', '--contact-roles', 'a,b,c,d,e,f,g,h,i']);
  assert.equal(r.status, 1);
  r = runConsort(['user', 'roles', '--data', s.dataDir, '--email', 'nope@x.example', '--role-line', 'x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no user/);
  r = runConsort(['user', 'roles', '--data', s.dataDir, '--email', 'member@iph.example', '--contact-roles', '']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(sql(s, "SELECT u.role_line AS l, (SELECT count(*) FROM contact_roles WHERE user_id = u.id) AS n FROM users u WHERE email = 'member@iph.example'"),
    [{ l: 'Epidemiologist', n: 0 }]);
  assert.equal(sql(s, "SELECT type FROM partners WHERE short = 'PATS'")[0].type, 'patient_org');
});

// A PNG of w x h grey pixels, optionally with a text chunk.
function makePng(w, h, { text } = {}) {
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
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((w + 1) * h, 0x80);
  for (let y = 0; y < h; y++) raw[y * (w + 1)] = 0; // filter: none
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    text ? chunk('tEXt', Buffer.from(`Comment\0${text}`)) : Buffer.alloc(0),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const pngSize = (buf) => [buf.readUInt32BE(16), buf.readUInt32BE(20)];

test('pictures: logos and news images pass through the image helper; hostile ones are refused', async () => {
  const send = (who, method, path, body) => who.req(method, path, { body, headers: { 'content-type': 'application/octet-stream' } });
  // A logo: re-encoded, its text chunk gone.
  let r = await send(coord, 'PUT', '/api/v1/partners/CHR/logo', makePng(40, 20, { text: 'hushhush-metadata' }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual([r.body.image.width, r.body.image.height], [40, 20]);
  const logo = r.body.image.src;
  r = await member.req('GET', '/api/v1/partners/CHR');
  assert.equal(r.body.partner.logo, logo);
  let img = await s.fetch(logo, { headers: { cookie: `__Host-consort=${member.cookie}` } });
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/png');
  assert.equal(img.headers.get('x-content-type-options'), 'nosniff');
  assert.match(img.headers.get('content-security-policy'), /sandbox/);
  let bytes = Buffer.from(await img.arrayBuffer());
  assert.deepEqual(pngSize(bytes), [40, 20]);
  assert.ok(!bytes.includes('hushhush-metadata'), 'nothing of the original but its pixels');
  assert.equal((await request(s, 'GET', logo)).status, 401, 'outsiders see no picture');

  // A huge declared size is scaled while decoding, not allocated whole.
  r = await send(coord, 'PUT', '/api/v1/partners/UNIRM/logo', makePng(6000, 3000));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual([r.body.image.width, r.body.image.height], [512, 256]);

  // Refused, and nothing changes: garbage, a PNG of width 0, an empty
  // body, a picture over the size limit. (SVG and WebP are taken:
  // directory_edit.test.mjs.)
  const broken = makePng(0, 10); // no pixels in a row
  const images = sql(s, 'SELECT count(*) AS n FROM images')[0].n;
  for (const [what, body, status] of [['garbage', Buffer.from('hello world, not a picture'), 415], ['broken', broken, 400], ['empty', Buffer.alloc(0), 415]]) {
    r = await send(coord, 'PUT', '/api/v1/partners/IPH/logo', body);
    assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(r.body.detail.length > 0);
  }
  // Over the limit: refused from its Content-Length, before the body.
  const head = `PUT /api/v1/partners/IPH/logo HTTP/1.1\r\nHost: x\r\nCookie: __Host-consort=${coord.cookie}\r\n` +
    `X-CSRF-Token: ${coord.csrf}\r\nContent-Length: ${9 << 20}\r\nExpect: 100-continue\r\n\r\n`;
  const [big] = parseResponses((await s.raw(Buffer.from(head))).text);
  assert.equal(big.status, 413);
  assert.equal(sql(s, 'SELECT count(*) AS n FROM images')[0].n, images);
  assert.deepEqual(sql(s, "SELECT logo_image_id FROM partners WHERE short = 'IPH'"), [{ logo_image_id: null }]);
  // Only coordinators set logos; only posters upload news images.
  r = await send(member, 'PUT', '/api/v1/partners/IPH/logo', makePng(4, 4));
  assert.equal(r.status, 403);
  r = await send(member, 'POST', '/api/v1/images', makePng(4, 4));
  assert.equal(r.status, 403);
  r = await send(coord, 'PUT', '/api/v1/partners/NOPE/logo', makePng(4, 4));
  assert.equal(r.status, 404);

  // A news item with its image.
  r = await send(comms, 'POST', '/api/v1/images', makePng(64, 48));
  assert.equal(r.status, 201);
  const pic = r.body.image;
  r = await comms.req('POST', '/api/v1/news', { json: { title: 'With a picture', body: `Look: ![the team](${pic.src})`, image: pic.id } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.news.image, pic.src);
  assert.match(r.body.news.html, new RegExp(`<img src="${pic.src}" alt="the team"`));
  r = await comms.req('POST', '/api/v1/news', { json: { title: 'Bad picture', body: 'x', image: 999999 } });
  assert.equal(r.status, 400);
  // A replaced logo and a removed news item's picture are deleted.
  const oldLogo = Number(logo.split('/').pop());
  r = await send(coord, 'PUT', '/api/v1/partners/CHR/logo', makePng(8, 8));
  assert.equal(r.status, 201);
  assert.deepEqual(sql(s, `SELECT count(*) AS n FROM images WHERE id = ${oldLogo}`), [{ n: 0 }]);
  const withPic = (await comms.req('GET', '/api/v1/news')).body.news.find((n) => n.title === 'With a picture');
  assert.equal((await comms.req('DELETE', `/api/v1/news/${withPic.id}`)).status, 204);
  assert.deepEqual(sql(s, `SELECT count(*) AS n FROM images WHERE id = ${pic.id}`), [{ n: 0 }]);
  img = await s.fetch('/api/v1/images/999999', { headers: { cookie: `__Host-consort=${member.cookie}` } });
  assert.equal(img.status, 404);
});

// Last: it runs no request, and a long pause (under ASan) would let the
// server close the idle keep-alive connection the next test reuses.
test('the demo has a full directory, news and events around today', () => {
  const dir = `${s.dataDir}-demo`;
  const r = runConsort(['demo', '--data', dir]);
  assert.equal(r.status, 0, r.stderr);
  const q = (statement) => sql({ dataDir: dir }, statement);
  try {
    assert.deepEqual(q("SELECT count(*) AS n FROM partners WHERE city = '' OR type = 'other'"), [{ n: 0 }]);
    assert.ok(q('SELECT count(DISTINCT type) AS n FROM partners')[0].n >= 5);
    assert.deepEqual(q("SELECT role, count(*) AS n FROM partners WHERE role <> 'beneficiary' GROUP BY role ORDER BY role"),
      [{ role: 'affiliated', n: 2 }, { role: 'associated', n: 3 }, { role: 'coordinator', n: 1 }]);
    const roles = q('SELECT role FROM contact_roles').map((x) => x.role);
    for (const r2 of ['Project coordinator', 'Project management', 'Communication', 'WP3 lead']) assert.ok(roles.includes(r2), r2);
    const now = Math.floor(Date.now() / 1000);
    // "A dozen news items and events": a dozen of each.
    assert.ok(q('SELECT count(*) AS n FROM news')[0].n >= 12);
    assert.ok(q('SELECT count(*) AS n FROM events')[0].n >= 12);
    assert.ok(q(`SELECT count(*) AS n FROM news WHERE created_at > ${now - 30 * 86400}`)[0].n >= 2, 'recent news');
    assert.ok(q(`SELECT count(*) AS n FROM events WHERE starts_at > ${now}`)[0].n >= 3, 'upcoming events');
    assert.ok(q(`SELECT count(*) AS n FROM events WHERE ends_at < ${now}`)[0].n >= 2, 'past events');
    assert.ok(q("SELECT count(*) AS n FROM events WHERE folder_path <> ''")[0].n >= 2);
    // each has its event row, so the demo's home feed and digests tell them (docs/notifications.md)
    assert.equal(q("SELECT count(*) AS n FROM audit a JOIN news n ON a.detail = 'news ' || n.id WHERE a.action = 'news_create'")[0].n, q('SELECT count(*) AS n FROM news')[0].n);
    assert.equal(q("SELECT count(*) AS n FROM audit a JOIN events e ON a.detail = 'event ' || e.id WHERE a.action = 'event_create'")[0].n, q('SELECT count(*) AS n FROM events')[0].n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
