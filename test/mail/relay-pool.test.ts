import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../../src/mail/mailer.ts';
import { createRelayPoolMailer } from '../../src/mail/relay-pool-mailer.ts';
import { createSmtpMailer } from '../../src/mail/smtp-mailer.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';

const message = (n: number): OutgoingMessage => ({
  from: 'Recap <recap@news.example.test>',
  to: `reader${n}@example.test`,
  subject: 'This week',
  html: '<p>Hi</p>',
  text: 'Hi',
  headers: {},
  messageId: `<recap.2026-W48.${n}@news.example.test>`,
});

/** A port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the relay pool', () => {
  const sinks: SmtpSink[] = [];
  afterEach(async () => {
    for (const sink of sinks.splice(0)) await sink.close();
  });

  /** A relay that refuses every login. */
  const refusingLogins = async () => {
    const sink = await startSmtpSink({
      serverOptions: {
        authOptional: false,
        allowInsecureAuth: true,
        onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
      },
    });
    sinks.push(sink);
    return `smtp://user:wrong@127.0.0.1:${sink.port}`;
  };

  it('sends around a relay that refuses connections or our login, naming the relay that took each message', async () => {
    const good = await startSmtpSink();
    sinks.push(good);
    const lines: string[] = [];
    const pool = createRelayPoolMailer(
      [
        {
          name: 'refused',
          weight: 5,
          mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, maxConnections: 1 }),
        },
        {
          name: 'no-login',
          weight: 5,
          mailer: createSmtpMailer({ url: await refusingLogins(), maxConnections: 1 }),
        },
        { name: 'good', weight: 1, mailer: createSmtpMailer({ url: good.url, maxConnections: 1 }) },
      ],
      { log: (line) => lines.push(line) },
    );
    try {
      const results = [];
      for (let n = 0; n < 10; n++) results.push(await pool.send(message(n)));
      expect(results.every((r) => r.ok && r.relay === 'good')).toBe(true);
      expect(good.messages.map((m) => m.parsed.messageId)).toEqual(
        Array.from({ length: 10 }, (_, n) => `<recap.2026-W48.${n}@news.example.test>`),
      );
      expect(lines.filter((line) => / taken out for 5 s/.test(line))).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('answers as the relay being away when every relay is out, and fatal when every one refused our login', async () => {
    const away = createRelayPoolMailer([
      {
        name: 'a',
        weight: 1,
        mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${await closedPort()}`, maxConnections: 1 }),
      },
      { name: 'b', weight: 1, mailer: createSmtpMailer({ url: await refusingLogins(), maxConnections: 1 }) },
    ]);
    const noLogin = createRelayPoolMailer([
      { name: 'c', weight: 1, mailer: createSmtpMailer({ url: await refusingLogins(), maxConnections: 1 }) },
      { name: 'd', weight: 1, mailer: createSmtpMailer({ url: await refusingLogins(), maxConnections: 1 }) },
    ]);
    try {
      const first = await away.send(message(1));
      expect(first).toMatchObject({ ok: false, kind: 'transient', relay: true });
      // Both out now: the next answer comes at once, without a connection attempt.
      const started = performance.now();
      expect(await away.send(message(2))).toMatchObject({ ok: false, relay: true });
      expect(performance.now() - started).toBeLessThan(50);
      const fatal = await noLogin.send(message(3));
      expect(fatal).toMatchObject({ ok: false, kind: 'fatal' });
      expect(fatal.ok ? '' : fatal.message).toMatch(/every relay is out/);
    } finally {
      await away.close();
      await noLogin.close();
    }
  });
});
