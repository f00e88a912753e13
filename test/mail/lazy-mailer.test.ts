import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lazyMailer } from '../../src/mail/lazy-mailer.ts';
import type { OutgoingMessage } from '../../src/mail/mailer.ts';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.ts';

const message: OutgoingMessage = {
  from: 'Recap <recap@news.example.test>',
  to: 'ada@example.test',
  subject: 'Hello',
  html: '<p>Hello</p>',
  text: 'Hello',
  headers: {},
  messageId: '<lazy.1@news.example.test>',
};

describe('the lazy mailer', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds the mailer on the first message only, and never for a close without one', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recap-lazy-'));
    const outbox = dir;
    let builds = 0;
    const build = async () => {
      builds += 1;
      return createOutboxMailer(outbox);
    };
    const unused = lazyMailer(build);
    await unused.close();
    expect(builds).toBe(0);

    const mailer = lazyMailer(build);
    expect(builds).toBe(0);
    expect(await mailer.send(message)).toEqual({ ok: true });
    expect(await mailer.send({ ...message, messageId: '<lazy.2@news.example.test>' })).toEqual({ ok: true });
    expect(builds).toBe(1);
    expect(await readdir(outbox)).toHaveLength(2);
    await mailer.close();
  });

  it('reports a failed build to the caller and tries again on the next use', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recap-lazy-'));
    const outbox = dir;
    let attempts = 0;
    const mailer = lazyMailer(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('DKIM_PRIVATE_KEY_FILE: cannot read /missing.pem');
      return createOutboxMailer(outbox);
    });
    await expect(mailer.open()).rejects.toThrow(/DKIM_PRIVATE_KEY_FILE/);
    expect(await mailer.send(message)).toEqual({ ok: true });
    expect(attempts).toBe(2);
  });
});
