// A real SMTP server for the notification tests (the smtp-server package),
// on loopback on a free port, offering STARTTLS with the test
// certificate and requiring AUTH after it; what arrives is parsed with
// mailparser. Nothing is mocked: consort talks to it through libcurl.
import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { freePort, testCert, testKey } from './server.mjs';
import { recordSecret } from './secrets.mjs';

export class Smtp {
  constructor({ port, user = 'consort-mailer', password = 'smtp pass 7f3a9c' } = {}) {
    this.port = port;
    this.user = user;
    this.password = password;
    this.mails = [];
    this.authFailures = 0;
    recordSecret(password);
  }

  async start() {
    this.port = this.port || await freePort();
    this.server = new SMTPServer({
      secure: false, // plain at first, STARTTLS offered
      key: readFileSync(testKey),
      cert: readFileSync(testCert),
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: false, // AUTH only after STARTTLS
      logger: false,
      onAuth: (auth, session, cb) => {
        if (auth.username === this.user && auth.password === this.password) return cb(null, { user: auth.username });
        this.authFailures++;
        return cb(new Error('Invalid username or password'));
      },
      onData: (stream, session, cb) => {
        const chunks = [];
        stream.on('data', (c) => chunks.push(c));
        stream.on('end', async () => {
          const raw = Buffer.concat(chunks).toString();
          try {
            const parsed = await simpleParser(raw);
            this.mails.push({
              raw, parsed, secure: session.secure, user: session.user,
              from: session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
            });
            cb();
          } catch (e) { cb(e); }
        });
      },
    });
    await new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(this.port, '127.0.0.1', res);
    });
    return this;
  }

  async stop() {
    if (!this.server) return;
    await new Promise((res) => this.server.close(res));
    this.server = null;
  }

  // Mail to `to` whose subject matches `subject` (a RegExp).
  to(to, subject = /./) {
    return this.mails.filter((m) => m.to.includes(to) && subject.test(m.parsed.subject || ''));
  }

  async waitFor(to, subject, { count = 1, timeout = 30000 } = {}) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const got = this.to(to, subject);
      if (got.length >= count) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no mail to ${to} matching ${subject} within ${timeout} ms; got: ${
      this.mails.map((m) => `${m.to} ${m.parsed.subject}`).join('; ')}`);
  }
}

// The server options that send through `smtp`. `passFile` holds the
// password (smtp-password-file); the CA is the test CA.
export function smtpArgs(smtp, passFile) {
  return ['--smtp-url', `smtp://127.0.0.1:${smtp.port}`, '--smtp-user', smtp.user,
    '--smtp-password-file', passFile, '--smtp-ca-file', process.env.NODE_EXTRA_CA_CERTS,
    '--mail-from', 'consort <noreply@docs.example.org>',
    '--notify-interval', '200ms', '--mail-retry', '200ms', '--test-hooks'];
}
