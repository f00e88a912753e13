import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { nextAttemptAt } from '../../src/delivery/retry-policy.ts';
import { classifySmtpError } from '../../src/mail/classify-smtp-error.ts';
import { composeMime } from '../../src/mail/compose-mime.ts';
import type { OutgoingMessage } from '../../src/mail/mailer.ts';
import { createOutboxMailer, outboxFileName } from '../../src/mail/outbox-mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

const message: OutgoingMessage = {
  from: '"Weekly AI Recap" <recap@news.example.test>',
  to: 'anna@example.test',
  subject: 'Nimbus-5 ships — and 6 more stories · Größe 🚀',
  html: '<!DOCTYPE html><html><body><p>Hi Anna, <a href="https://recap.example.test/c/x">read</a></p>\n.\n<p>.leading dot</p></body></html>',
  text: 'Hi Anna,\n.\n.leading dot\nÜmlaut and emoji 🚀\n',
  headers: {
    'List-Unsubscribe':
      '<https://recap.example.test/u/u=1=2==abc>, <mailto:unsubscribe+u=1=2==abc@news.example.test>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': 'Weekly AI Recap <weekly-ai-recap.news.example.test>',
  },
  messageId: '<recap.2026-W48.42@news.example.test>',
  envelopeFrom: 'bounces+b=42=1==sig@news.example.test',
};

describe('composing a message for SMTP', () => {
  it('produces a multipart/alternative message that mailparser reads back field for field', async () => {
    const parsed = await simpleParser(composeMime(message, new Date('2026-11-30T08:00:00Z')));
    expect(parsed.subject).toBe(message.subject);
    expect(parsed.messageId).toBe(message.messageId);
    expect(parsed.from?.value[0]).toMatchObject({
      name: 'Weekly AI Recap',
      address: 'recap@news.example.test',
    });
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]?.address : null).toBe(
      'anna@example.test',
    );
    expect(parsed.date?.toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(parsed.text).toBe(message.text);
    expect(parsed.html).toBe(message.html);
    const line = (key: string) =>
      parsed.headerLines.find((h) => h.key === key)?.line.replace(/\r\n\s+/g, ' ');
    expect(line('list-unsubscribe')).toBe(`List-Unsubscribe: ${message.headers['List-Unsubscribe']}`);
    expect(line('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(line('list-id')).toBe('List-Id: Weekly AI Recap <weekly-ai-recap.news.example.test>');
  });

  it('keeps every line within the SMTP limit and refuses header injection', () => {
    const raw = composeMime({ ...message, html: `<p>${'x'.repeat(5000)}</p>` }).toString('latin1');
    expect(Math.max(...raw.split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(998);
    expect(() => composeMime({ ...message, headers: { 'X-Evil': 'a\r\nBcc: victim@example.test' } })).toThrow(
      /line breaks/,
    );
  });
});

describe('the outbox mailer', () => {
  it('writes one parseable .eml per Message-ID and overwrites it when the same delivery is sent again', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'recap-outbox-'));
    try {
      const mailer = createOutboxMailer(dir);
      expect(await mailer.send(message)).toEqual({ ok: true });
      expect(await mailer.send({ ...message, subject: 'second attempt' })).toEqual({ ok: true });
      expect(
        await mailer.send({
          ...message,
          to: 'ben@example.test',
          messageId: '<recap.2026-W48.43@news.example.test>',
        }),
      ).toEqual({
        ok: true,
      });
      const files = (await readdir(dir)).sort();
      expect(files).toEqual([
        'recap.2026-W48.42@news.example.test.eml',
        'recap.2026-W48.43@news.example.test.eml',
      ]);
      expect(outboxFileName(message.messageId)).toBe(files[0]);
      const parsed = await simpleParser(await readFile(path.join(dir, files[0] as string)));
      expect(parsed.subject).toBe('second attempt');
      expect(parsed.messageId).toBe(message.messageId);
      expect(parsed.text).toBe(message.text);
      expect(parsed.html).toBe(message.html);
      expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe(
        'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      );
      await mailer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no .partial file when the disk fills mid-write', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'recap-outbox-'));
    try {
      // The partial file's name leads to /dev/full: every write to it fails with ENOSPC, as on a full disk.
      const target = path.join(dir, outboxFileName(message.messageId));
      await symlink('/dev/full', `${target}.${process.pid}.partial`);
      const result = await createOutboxMailer(dir).send(message);
      expect(result).toMatchObject({ ok: false, kind: 'fatal', message: expect.stringMatching(/ENOSPC/) });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no .partial file when the finished file cannot take its name', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'recap-outbox-'));
    try {
      // A folder where the message's file should go: the rename after a complete write fails.
      const name = outboxFileName(message.messageId);
      await mkdir(path.join(dir, name));
      const result = await createOutboxMailer(dir).send(message);
      expect(result).toMatchObject({ ok: false, kind: 'fatal', message: expect.stringMatching(/EISDIR/) });
      expect(await readdir(dir)).toEqual([name]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('classifying SMTP errors', () => {
  it.each([
    [{ code: 'EENVELOPE', responseCode: 451, response: '451 4.3.0 try later' }, 'transient', '4.3.0'],
    [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'transient', undefined],
    [{ code: 'ETIMEDOUT', message: 'Timeout' }, 'transient', undefined],
    [
      {
        code: 'EENVELOPE',
        responseCode: 550,
        response: '550 5.1.1 <a@b>: Recipient address rejected: User unknown',
      },
      'permanent',
      '5.1.1',
    ],
    [{ code: 'EENVELOPE', responseCode: 550, response: '550 No such user here' }, 'permanent', '5.1.1'],
    [{ code: 'EMESSAGE', responseCode: 552, response: '552 5.3.4 Message too big' }, 'permanent', '5.3.4'],
    [
      {
        code: 'EENVELOPE',
        responseCode: 554,
        response: '554 5.7.1 Service unavailable; client host blocked',
      },
      'policy',
      '5.7.1',
    ],
    [
      { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication credentials invalid' },
      'fatal',
      '5.7.8',
    ],
    // A failed TLS handshake is the relay's (send-relay-outage.test.ts): retried after a back-off, never a pause.
    [{ code: 'ETLS', message: 'Error initiating TLS' }, 'transient', undefined],
    [{ responseCode: 530, response: '530 5.7.0 Must issue a STARTTLS command first' }, 'fatal', '5.7.0'],
  ])('%j is %s', (error, kind, enhanced) => {
    const result = classifySmtpError(error);
    expect(result.kind).toBe(kind);
    expect(result.enhanced).toBe(enhanced);
    expect(result.message.length).toBeGreaterThan(0);
  });
});

describe('the retry policy', () => {
  const policy = { baseMs: 1000, capMs: 8000, deadlineMs: 60_000 };
  const start = new Date('2026-11-30T08:00:00Z');

  it('backs off exponentially with jitter, capped, and gives up past the deadline', () => {
    const delay = (attempts: number, random: number, now = start) =>
      (nextAttemptAt(policy, attempts, start, now, random)?.getTime() ?? Number.NaN) - now.getTime();
    expect(delay(1, 0)).toBe(500);
    expect(delay(1, 1)).toBe(1000);
    expect(delay(3, 0)).toBe(2000);
    expect(delay(3, 1)).toBe(4000);
    expect(delay(10, 1)).toBe(8000);
    expect(nextAttemptAt(policy, 2, start, new Date(start.getTime() + 59_500), 0)).toBeNull();
  });
});

describe('DKIM', () => {
  it('signs every message, List-Unsubscribe and List-Unsubscribe-Post included', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sink = await startSmtpSink();
    const mailer = createSmtpMailer({
      url: sink.url,
      maxConnections: 1,
      dkim: {
        domain: 'news.example.test',
        selector: 'recap',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    try {
      expect(await mailer.send(message)).toEqual({ ok: true });
      const [received] = sink.messages;
      expect(received?.envelopeFrom).toBe(message.envelopeFrom);
      const signature =
        received?.parsed.headerLines.find((h) => h.key === 'dkim-signature')?.line.replace(/\s+/g, '') ?? '';
      expect(signature).toContain('d=news.example.test');
      expect(signature).toContain('s=recap');
      const signed = /;h=([^;]+)/.exec(signature)?.[1]?.toLowerCase().split(':') ?? [];
      expect(signed).toEqual(
        expect.arrayContaining([
          'from',
          'subject',
          'message-id',
          'list-unsubscribe',
          'list-unsubscribe-post',
          'list-id',
        ]),
      );
      expect(received?.parsed.subject).toBe(message.subject);
    } finally {
      await mailer.close();
      await sink.close();
    }
  });
});
