import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import DKIM from 'nodemailer/lib/dkim';
import { describe, expect, it } from 'vitest';
import { demoEdition, demoFrame } from '../../emails/fixtures/demo-edition.ts';
import { outgoingMessage } from '../../src/delivery/outgoing-message.ts';
import { base64Lines, base64SlottedLines } from '../../src/mail/base64-lines.ts';
import { composeMime, createMessageComposer } from '../../src/mail/compose-mime.ts';
import type { OutgoingMessage } from '../../src/mail/mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { createEditionRenderer } from '../../src/render/edition-renderer.ts';
import { type Recipient, type SlottedText, withParts } from '../../src/render/rendered-message.ts';
import { startSmtpSink } from '../support/smtp-sink.ts';

const secrets = { current: 'a-test-secret-that-is-long-enough-0123456789', previous: [] };
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkim = {
  domain: 'news.example.test',
  selector: 'recap',
  privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const dnsRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const resolver = async (name: string, type: string) => {
  if (type === 'TXT' && name === 'recap._domainkey.news.example.test') return [[dnsRecord]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

/** The composer's encoding before encoded chunks: the whole text in base64, cut into 76-character lines. */
function referenceBase64(content: string): string {
  const encoded = Buffer.from(content, 'utf8').toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.join('\r\n');
}

const joined = (bytes: Buffer) => bytes.toString('latin1');

function fill(text: SlottedText, values: readonly string[], sequence?: Uint32Array): string {
  let out = text.literals[0] ?? '';
  for (const i of sequence ?? text.slots.keys())
    out += (values[text.slots[i] as number] ?? '') + text.literals[i + 1];
  return out;
}

/** A small deterministic generator, so a failure can be replayed. */
function randomFrom(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

const alphabet = ['a', 'Z', '0', ' ', '<', '"', 'é', 'ß', '€', '漢', '😀', '\n', '\ud800x', 'y\udfff'];

function randomText(random: (n: number) => number, max: number): string {
  let out = '';
  const length = random(max + 1);
  for (let i = 0; i < length; i++) out += alphabet[random(alphabet.length)];
  return out;
}

describe('encoded-chunk base64', () => {
  it('encodes a whole text exactly as one base64 pass cut into 76-character lines', () => {
    for (const content of ['', 'a', 'ab', 'abc', 'x'.repeat(57), 'x'.repeat(58), 'Grüße 😀 '.repeat(300)]) {
      expect(base64Lines(content)).toBe(referenceBase64(content));
    }
  });

  it('gives the bytes of the filled text for every alignment of literals and personal values', () => {
    const random = randomFrom(16);
    for (let round = 0; round < 400; round++) {
      const slotCount = random(6);
      const text: SlottedText = {
        literals: Array.from({ length: slotCount + 1 }, () => randomText(random, random(4) === 0 ? 400 : 40)),
        slots: Array.from({ length: slotCount }, () => random(4)),
      };
      // The same template serves several readers: cached variants must fit every one of them.
      for (let reader = 0; reader < 4; reader++) {
        const values = Array.from({ length: 4 }, () => randomText(random, 30));
        expect(joined(base64SlottedLines(text, values))).toBe(referenceBase64(fill(text, values)));
      }
    }
  });

  it("gives the bytes of the filled text in any sequence of its segments (a reader's own order)", () => {
    const random = randomFrom(28);
    for (let round = 0; round < 300; round++) {
      const slotCount = 1 + random(8);
      const text: SlottedText = {
        literals: Array.from({ length: slotCount + 1 }, () => randomText(random, random(4) === 0 ? 300 : 40)),
        slots: Array.from({ length: slotCount }, () => random(4)),
      };
      for (let reader = 0; reader < 4; reader++) {
        const values = Array.from({ length: 4 }, () => randomText(random, 30));
        const sequence = Uint32Array.from(text.slots.keys());
        for (let i = sequence.length - 1; i > 0; i--) {
          const j = random(i + 1);
          [sequence[i], sequence[j]] = [sequence[j] as number, sequence[i] as number];
        }
        // The same template's cache serves readers with and without an order.
        expect(joined(base64SlottedLines(text, values, sequence))).toBe(
          referenceBase64(fill(text, values, sequence)),
        );
        expect(joined(base64SlottedLines(text, values))).toBe(referenceBase64(fill(text, values)));
      }
    }
  });
});

describe('the encoded-chunk composer', () => {
  const renderer = createEditionRenderer({
    frame: demoFrame,
    secrets,
    trackingEnabled: true,
    honeypot: true,
  });
  const template = renderer.template(demoEdition());
  const context = {
    issueId: 1,
    fromName: 'Weekly AI Recap',
    fromEmail: 'recap@news.example.test',
    bounceDomain: 'news.example.test',
    publicUrl: demoFrame.publicUrl,
    listIdDomain: demoFrame.listIdDomain,
    secrets,
  };
  // Names of every length modulo 3 and 19, tracked and untracked copies, non-ASCII and markup in names.
  const readers: Recipient[] = [
    { subscriberId: '1', email: 'anna@example.test', name: 'Anna Müller', trackingEnabled: true },
    { subscriberId: '42', email: 'bob@example.test', name: null, trackingEnabled: false },
    { subscriberId: '9001', email: 'eve@example.test', name: `O'Neil <b>&"x"`, trackingEnabled: true },
    ...Array.from({ length: 20 }, (_, i) => ({
      subscriberId: String(100 + i),
      email: `reader${i}@example.test`,
      name: `${'Ré'.repeat(i)}x`,
      trackingEnabled: i % 2 === 0,
    })),
  ];

  function copyFor(reader: Recipient, order?: readonly string[]): OutgoingMessage {
    return outgoingMessage(
      renderer.personalise(template, reader, order),
      {
        id: reader.subscriberId,
        subscriberId: reader.subscriberId,
        segmentKey: template.segmentKey,
        messageId: `<recap.2026-W48.${reader.subscriberId}@news.example.test>`,
        attempts: 1,
        email: reader.email,
        name: reader.name,
        trackingEnabled: reader.trackingEnabled,
      },
      context,
    );
  }

  for (const signed of [false, true]) {
    it(`composes the same bytes as encoding the whole personalised strings${signed ? ', DKIM-signed' : ''}`, async () => {
      const composer = createMessageComposer({
        ...(signed ? { dkim } : {}),
        now: () => new Date('2026-11-30T08:00:00Z'),
      });
      for (const reader of readers) {
        const message = copyFor(reader);
        expect(message.parts).toBeDefined();
        // A spread copy drops the parts: the composer encodes it from its strings, as before.
        const whole = { ...message };
        expect(whole.parts).toBeUndefined();
        const chunked = await composer.compose(message);
        const reference = await composer.compose(whole);
        expect(chunked.equals(reference)).toBe(true);

        const [a, b] = await Promise.all([simpleParser(chunked), simpleParser(reference)]);
        expect(a.html).toBe(message.html);
        expect(a.text).toBe(message.text);
        expect(a.html).toBe(b.html);
        expect(a.text).toBe(b.text);
        expect([...a.headers.entries()]).toEqual([...b.headers.entries()]);
        expect(a.attachments).toEqual(b.attachments);
        expect(a.attachments).toHaveLength(0);
        const body = chunked.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');
        for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
        if (signed) {
          const verified = await dkimVerify(chunked, { resolver });
          expect(verified.results.map((r) => r.status.result)).toEqual(['pass']);
        }
      }
    });
  }

  it("composes the same bytes as the whole strings for a reader's own order of the stories", async () => {
    const composer = createMessageComposer({ now: () => new Date('2026-11-30T08:00:00Z') });
    const ids = template.movable.flatMap((section) => section.storyIds);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    const orders = [[...ids].reverse(), [ids[1] as string], [ids[3] as string, ids[0] as string, 'gone']];
    for (const [n, reader] of readers.entries()) {
      const order = orders[n % orders.length] as string[];
      const message = copyFor(reader, order);
      expect(message.parts?.html.sequence).toBeDefined();
      const chunked = await composer.compose(message);
      expect(chunked.equals(await composer.compose({ ...message }))).toBe(true);
      const parsed = await simpleParser(chunked);
      expect(parsed.html).toBe(message.html);
      expect(parsed.text).toBe(message.text);
      expect(message.html).not.toBe(copyFor(reader).html);
    }
  });

  it("signs with the very DKIM-Signature nodemailer's streaming signer gives the same bytes", async () => {
    const date = new Date('2026-11-30T08:00:00Z');
    const composer = createMessageComposer({ dkim, now: () => date });
    const reference = new DKIM({
      domainName: dkim.domain,
      keySelector: dkim.selector,
      privateKey: dkim.privateKey,
    });
    for (const reader of readers.slice(0, 6)) {
      const message = copyFor(reader);
      const signed = await composer.compose(message);
      const slow = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const stream = reference.sign(composeMime(message, date));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.once('error', reject);
        stream.once('end', () => resolve(Buffer.concat(chunks)));
      });
      expect(signed.toString('latin1')).toBe(slow.toString('latin1'));
    }
  });

  it('keeps tracked and untracked copies apart: the untracked one has no pixel and no /c/ links', async () => {
    const composer = createMessageComposer({ now: () => new Date('2026-11-30T08:00:00Z') });
    const tracked = await simpleParser(await composer.compose(copyFor(readers[0] as Recipient)));
    const untracked = await simpleParser(await composer.compose(copyFor(readers[1] as Recipient)));
    expect(tracked.html).toMatch(/\/o\//);
    expect(tracked.html).toMatch(/\/c\//);
    expect(untracked.html).not.toMatch(/\/o\//);
    expect(untracked.html).not.toMatch(/\/c\//);
    expect(untracked.text).toContain('Hi there,');
  });

  it('sends copies in parallel through reused buffers, each arriving whole and as its own', async () => {
    const sink = await startSmtpSink();
    const composer = createMessageComposer({ now: () => new Date('2026-11-30T08:00:00Z') });
    const mailer = createSmtpMailer({ url: sink.url, maxConnections: 3, composer });
    try {
      // Copies of 1 MB with personal values all through them: more than a socket takes at once, so bytes
      // of one copy wait in the process while other lanes compose theirs; a buffer handed to the next
      // copy before its message was on the server would show as another reader's values.
      const chunk = `</p>${'<i>bulk</i> '.repeat(10_000)}<p>`;
      const big: SlottedText = {
        literals: ['<p>', ...Array.from({ length: 8 }, () => chunk), '</p>'],
        slots: Array.from({ length: 9 }, () => 0),
      };
      const copies = Array.from({ length: 36 }, (_, n) => {
        const copy = copyFor(readers[n % readers.length] as Recipient);
        const values = [`reader ${n}`];
        return withParts(
          { ...copy, to: `copy${n}@example.test`, html: fill(big, values) },
          { html: { text: big, values }, text: { text: { literals: [`copy ${n}`], slots: [] }, values: [] } },
        );
      });
      // Six lanes, as a worker runs them: each lane's next copy is composed while the others are on the wire.
      const queue = [...copies];
      const results = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const mine = [];
          for (let copy = queue.shift(); copy; copy = queue.shift()) mine.push(await mailer.send(copy));
          return mine;
        }),
      );
      expect(results.flat().every((r) => r.ok)).toBe(true);
      expect(sink.messages).toHaveLength(copies.length);
      for (const received of sink.messages) {
        const copy = copies.find((c) => c.to === received.envelopeTo[0]) as OutgoingMessage;
        expect(received.raw.equals(await composer.compose(copy))).toBe(true);
      }
    } finally {
      await mailer.close();
      await sink.close();
    }
  });
});
