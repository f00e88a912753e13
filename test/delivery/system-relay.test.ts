import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { messageFactoryFor } from '../../src/delivery/edition-messages.ts';
import { runWorker } from '../../src/delivery/send-worker.ts';
import { startSend } from '../../src/delivery/start-send.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.ts';
import { createTestApp } from '../web/web-fixtures.ts';
import { type SeededSend, seedSend } from './send-fixtures.ts';

const READERS = 1500;

describe('the system relay (SYSTEM_SMTP_URL)', () => {
  let bulk: SmtpSink;
  let system: SmtpSink | undefined;
  let app: App;
  let seeded: SeededSend;
  let server: RunningServer;

  beforeEach(async () => {
    // A slow bulk relay: a weekly send keeps its connections busy for minutes.
    bulk = await startSmtpSink({ dataDelayMs: 50 });
  });
  afterEach(async () => {
    await server?.close();
    await app?.close();
    await bulk?.close();
    await system?.close();
  });

  async function start(env: Record<string, string>) {
    app = await createTestApp({ SIGNUP_MIN_FILL_SECONDS: '0', SMTP_MAX_CONNECTIONS: '3', ...env });
    seeded = await seedSend(app.db, READERS);
    await startSend(app.db, seeded.issueId, { messageIdDomain: 'recap.test' });
    // As `recap serve` does: the web server's mails go through the App's system mailer.
    server = await startServer({ ...app, mailer: app.systemMailer }, { port: 0, host: '127.0.0.1' });
  }

  /** Signs up `email` while the send runs; ms until `sink` holds its confirmation. */
  async function signUpDuringSend(email: string, sink: SmtpSink): Promise<number> {
    const controller = new AbortController();
    const running = runWorker({
      db: app.db,
      mailer: app.mailer,
      systemMailer: app.systemMailer,
      config: app.config,
      workerId: 'bulk-worker',
      issueId: seeded.issueId,
      messages: async () => messageFactoryFor(seeded.content, app.config),
      signal: controller.signal,
    });
    try {
      while (bulk.messages.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
      const form = await (await fetch(`${server.url}/subscribe`)).text();
      const segment = /name="segment" value="([^"]+)"/.exec(form)?.[1] ?? '';
      const stamp = /name="form_stamp" value="([^"]+)"/.exec(form)?.[1] ?? '';
      const started = performance.now();
      const answer = await fetch(`${server.url}/subscribe`, {
        method: 'POST',
        body: new URLSearchParams([
          ['email', email],
          ['segment', segment],
          ['form_stamp', stamp],
        ]),
      });
      expect(answer.status).toBe(200);
      while (!sink.messages.some((m) => m.envelopeTo.includes(email))) {
        if (performance.now() - started > 10_000) throw new Error('no confirmation within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const ms = performance.now() - started;
      // The weekly send was still going: the confirmation did not wait for its end.
      expect(bulk.messages.filter((m) => m.parsed.messageId?.startsWith('<recap.')).length).toBeLessThan(
        READERS,
      );
      return ms;
    } finally {
      controller.abort();
      await running;
    }
  }

  it('carries a sign-up confirmation within a second while a big send keeps the bulk relay busy', async () => {
    system = await startSmtpSink();
    await start({ SMTP_URL: bulk.url, SYSTEM_SMTP_URL: system.url });
    const ms = await signUpDuringSend('newcomer@reader.test', system);
    console.info(`sign-up confirmation through SYSTEM_SMTP_URL during a send: ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(bulk.messages.some((m) => m.envelopeTo.includes('newcomer@reader.test'))).toBe(false);
  }, 60_000);

  it('without SYSTEM_SMTP_URL, goes through the bulk relay on a pool of its own, still within a second', async () => {
    await start({ SMTP_URL: bulk.url });
    const ms = await signUpDuringSend('second@reader.test', bulk);
    console.info(
      `sign-up confirmation through the bulk relay's own system pool during a send: ${Math.round(ms)} ms`,
    );
    expect(ms).toBeLessThan(1000);
  }, 60_000);
});
