import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoEdition, demoFrame } from '../../emails/fixtures/demo-edition.ts';
import { createMessageComposer, formatAddress } from '../../src/mail/compose-mime.ts';
import type { OutgoingMessage } from '../../src/mail/mailer.ts';
import { createOutboxMailer, outboxFileName } from '../../src/mail/outbox-mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkim = {
  domain: 'news.example.test',
  selector: 'recap',
  privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const dnsRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
// The DNS answer a receiver would get for recap._domainkey.news.example.test.
const resolver = async (name: string, type: string) => {
  if (type === 'TXT' && name === 'recap._domainkey.news.example.test') return [[dnsRecord]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

/** A real recap delivery: the demo edition personalised for one reader, in its envelope. */
function delivery(): OutgoingMessage {
  const renderer = createEditionRenderer({
    frame: demoFrame,
    secrets,
    trackingEnabled: true,
    honeypot: true,
  });
  const rendered = renderer.personalise(renderer.template(demoEdition()), {
    subscriberId: '42',
    email: 'anna@example.test',
    name: 'Anna Müller',
    trackingEnabled: true,
  });
  return {
    from: formatAddress('Weekly AI Recap', 'recap@news.example.test'),
    to: 'anna@example.test',
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers: rendered.headers,
    messageId: '<recap.2026-W48.42@news.example.test>',
    envelopeFrom: 'bounces+b=42=1==sig@news.example.test',
  };
}

describe('one composer for the wire and the outbox', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recap-one-composer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to the outbox exactly the bytes an SMTP server receives for the same delivery, DKIM-signed', async () => {
    const composer = createMessageComposer({ dkim, now: () => new Date('2026-11-30T08:00:00Z') });
    const sink = await startSmtpSink();
    const smtp = createSmtpMailer({ url: sink.url, maxConnections: 1, composer });
    const outbox = createOutboxMailer(dir, composer);
    const message = delivery();
    try {
      expect(await smtp.send(message)).toEqual({ ok: true });
      expect(await outbox.send(message)).toEqual({ ok: true });
    } finally {
      await smtp.close();
      await sink.close();
    }
    const wire = sink.messages[0]?.raw ?? Buffer.alloc(0);
    const file = await readFile(path.join(dir, outboxFileName(message.messageId)));
    expect(wire.length).toBeGreaterThan(10_000);
    expect(file.equals(wire)).toBe(true);

    // CRLF everywhere, base64 parts, the signature first.
    const text = file.toString('latin1');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(text.match(/Content-Transfer-Encoding: base64/g)).toHaveLength(2);
    expect(text.startsWith('DKIM-Signature: ')).toBe(true);

    const verified = await dkimVerify(file, { resolver });
    expect(verified.results.map((r) => r.status.result)).toEqual(['pass']);
    const parsed = await simpleParser(file);
    expect(parsed.html).toBe(message.html);
    expect(parsed.text).toBe(message.text);
  });

  it('a tampered outbox file no longer verifies', async () => {
    const composer = createMessageComposer({ dkim, now: () => new Date('2026-11-30T08:00:00Z') });
    const raw = await composer.compose(delivery());
    const tampered = Buffer.from(raw.toString('latin1').replace('\r\nTo: anna@', '\r\nTo: bob@'), 'latin1');
    const verified = await dkimVerify(tampered, { resolver });
    expect(verified.results.map((r) => r.status.result)).toEqual(['fail']);
  });

  it('writes unsigned files when no key is configured, still byte-stable for the same delivery', async () => {
    const composer = createMessageComposer({ now: () => new Date('2026-11-30T08:00:00Z') });
    const outbox = createOutboxMailer(path.join(dir, 'unsigned'), composer);
    const message = delivery();
    expect(await outbox.send(message)).toEqual({ ok: true });
    const [name] = await readdir(path.join(dir, 'unsigned'));
    const file = await readFile(path.join(dir, 'unsigned', name as string));
    expect(file.equals(await composer.compose(message))).toBe(true);
    expect(file.toString('latin1')).not.toMatch(/DKIM-Signature/);
  });
});
