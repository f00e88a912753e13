import { execFileSync } from 'node:child_process';
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/cli/app.ts';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.ts';
import { signBounceToken } from '../../src/tracking/token.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { createTestApp, SECRET, seedIssue } from './web-fixtures.ts';

// Every provider's fixture keys are made here: a SendGrid ECDSA pair, an RSA key and self-signed
// certificate for SNS (served through the injected fetcher), HMAC secrets for the rest.
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherSendgridKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const standardSecret = `whsec_${randomBytes(24).toString('base64')}`;
const resendSecret = `whsec_${randomBytes(24).toString('base64')}`;
const mailgunKey = 'key-mailgun-signing-0123456789';
const postmark = { user: 'recap-hooks', password: 'postmark-password-0123456789' };
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:recap-ses-events';
const certUrl = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem';
const secrets = { current: SECRET, previous: [] };

let app: App;
let server: RunningServer;
let issueId: number;
let snsKey: KeyObject;
let snsCertificate: string;
const fetched: string[] = [];

function snsFixture(): { key: KeyObject; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'recap-sns-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=sns.amazonaws.com',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return {
    key: createPrivateKey(readFileSync(path.join(dir, 'key.pem'))),
    cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
  };
}

beforeAll(async () => {
  ({ key: snsKey, cert: snsCertificate } = snsFixture());
  app = await createTestApp({
    SES_SNS_TOPIC_ARNS: topicArn,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKeys.publicKey
      .export({ format: 'der', type: 'spki' })
      .toString('base64'),
    MAILGUN_WEBHOOK_SIGNING_KEY: mailgunKey,
    POSTMARK_WEBHOOK_USER: postmark.user,
    POSTMARK_WEBHOOK_PASSWORD: postmark.password,
    RESEND_WEBHOOK_SECRET: resendSecret,
    // STANDARD_WEBHOOK_SECRET left unset: /webhooks/standard is not served.
    SOFT_BOUNCE_LIMIT: '3',
  });
  issueId = (await seedIssue(app.db)).issueId;
  const mailer = createOutboxMailer(mkdtempSync(path.join(tmpdir(), 'recap-hooks-outbox-')));
  server = await startServer(
    { ...app, mailer },
    {
      port: 0,
      host: '127.0.0.1',
      fetchText: async (url) => {
        fetched.push(url);
        if (url === certUrl) return snsCertificate;
        if (url.startsWith('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')) return '<ok/>';
        throw new Error(`unexpected fetch ${url}`);
      },
    },
  );
  // A fresh database and its migrations take over two minutes when the machine runs many suites.
}, 300_000);
afterAll(async () => {
  await server?.close();
  await app?.close();
});

let readers = 0;
/** A subscriber with a sent delivery of the issue; returns its id and its return-path token. */
async function reader(relayMessageId: string | null = null): Promise<{ id: string; token: string }> {
  const { id } = await app.db
    .insertInto('subscribers')
    .values({ email: `hook-reader-${++readers}@example.org`, status: 'active', confirmed_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();
  await app.db
    .insertInto('deliveries')
    .values({
      issue_id: issueId,
      subscriber_id: id,
      segment_key: 'engineers',
      status: 'sent',
      message_id: `<recap.hooks.${id}@recap.test>`,
      relay_message_id: relayMessageId,
      sent_at: new Date(),
    })
    .execute();
  return { id, token: signBounceToken(secrets, id, issueId) };
}

async function statusOf(id: string): Promise<{ status: string; soft: number; log: string[] }> {
  const row = await app.db
    .selectFrom('subscribers')
    .select(['status', 'soft_bounce_count'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const log = await app.db
    .selectFrom('consent_log')
    .select('action')
    .where('subscriber_id', '=', id)
    .execute();
  return { status: row.status, soft: row.soft_bounce_count, log: log.map((entry) => entry.action) };
}

function post(provider: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/webhooks/${provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

const now = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks (Resend)', () => {
  function signed(id: string, body: string, timestamp = now(), secret = resendSecret) {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    return { 'svix-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': `v1,${signature}` };
  }
  const bounce = (token: string) =>
    JSON.stringify({
      type: 'email.bounced',
      data: {
        email_id: 'resend-1',
        tags: { recap_token: token },
        bounce: { type: 'Permanent', message: 'no such user' },
      },
    });

  it('a signed hard bounce suppresses the reader; the same event again changes nothing more', async () => {
    const { id, token } = await reader();
    const body = bounce(token);
    const first = await post('resend', body, signed('msg_hard_1', body));
    expect(first.status).toBe(200);
    expect(await statusOf(id)).toMatchObject({ status: 'bounced' });
    const again = await post('resend', body, signed('msg_hard_1', body));
    expect(again.status).toBe(200);
    expect((await statusOf(id)).log.filter((a) => a.startsWith('suppressed'))).toHaveLength(1);
    const seen = await app.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('event_id', '=', 'msg_hard_1')
      .execute();
    expect(seen).toHaveLength(1);
  });

  it('unsigned (401), forged, stale and altered (403) bounces change nothing', async () => {
    const { id, token } = await reader();
    const body = bounce(token);
    expect((await post('resend', body)).status).toBe(401);
    const forged = signed('msg_f', body, now(), `whsec_${randomBytes(24).toString('base64')}`);
    expect((await post('resend', body, forged)).status).toBe(403);
    expect((await post('resend', body, signed('msg_s', body, now() - 600))).status).toBe(403);
    const altered = body.replace('Permanent', 'Permanent ');
    expect((await post('resend', altered, signed('msg_a', body))).status).toBe(403);
    expect(await statusOf(id)).toMatchObject({ status: 'active', log: [] });
  });

  it('an event for a message we did not send is answered 200 and dropped; an unconfigured provider is 404', async () => {
    const body = JSON.stringify({
      type: 'email.bounced',
      data: { email_id: 'not-ours', bounce: { type: 'Permanent' } },
    });
    const answer = await post('resend', body, signed('msg_unknown', body));
    expect(answer.status).toBe(200);
    expect(
      await app.db.selectFrom('webhook_events').selectAll().where('event_id', '=', 'msg_unknown').execute(),
    ).toEqual([]);
    expect((await post('standard', body, signed('msg_x', body, now(), standardSecret))).status).toBe(404);
  });
});

describe('SendGrid signed event webhook', () => {
  function signed(body: string, timestamp = now(), privateKey = sendgridKeys.privateKey) {
    const signature = sign('sha256', Buffer.from(`${timestamp}${body}`), privateKey).toString('base64');
    return {
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': String(timestamp),
    };
  }

  it('a signed batch suppresses a bounced reader and counts a blocked one as a soft bounce', async () => {
    const hard = await reader();
    const soft = await reader('sg-relay-id-42');
    const body = JSON.stringify([
      {
        event: 'bounce',
        type: 'bounce',
        sg_event_id: 'sg-1',
        recap_token: hard.token,
        status: '5.1.1',
        reason: 'unknown user',
      },
      {
        event: 'bounce',
        type: 'blocked',
        sg_event_id: 'sg-2',
        sg_message_id: 'sg-relay-id-42.filter0001.1',
        status: '4.7.1',
      },
      { event: 'delivered', sg_event_id: 'sg-3', recap_token: hard.token },
    ]);
    expect((await post('sendgrid', body, signed(body))).status).toBe(200);
    expect(await statusOf(hard.id)).toMatchObject({ status: 'bounced' });
    expect(await statusOf(soft.id)).toMatchObject({ status: 'active', soft: 1, log: ['soft-bounce'] });
    expect((await post('sendgrid', body, signed(body))).status).toBe(200);
    expect(await statusOf(soft.id)).toMatchObject({ soft: 1, log: ['soft-bounce'] });
  });

  it('a batch signed with another key, unsigned or stale changes nothing', async () => {
    const victim = await reader();
    const body = JSON.stringify([
      { event: 'spamreport', sg_event_id: 'sg-forged', recap_token: victim.token },
    ]);
    expect((await post('sendgrid', body, signed(body, now(), otherSendgridKeys.privateKey))).status).toBe(
      403,
    );
    expect((await post('sendgrid', body)).status).toBe(401);
    expect((await post('sendgrid', body, signed(body, now() - 3600))).status).toBe(403);
    expect(await statusOf(victim.id)).toMatchObject({ status: 'active', log: [] });
  });
});

describe('Mailgun webhook', () => {
  function body(
    eventData: Record<string, unknown>,
    timestamp = now(),
    token = randomBytes(25).toString('hex'),
    key = mailgunKey,
  ) {
    const signature = createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');
    return JSON.stringify({
      signature: { timestamp: String(timestamp), token, signature },
      'event-data': eventData,
    });
  }

  it('a signed complaint marks the reader complained; the same request replayed is refused', async () => {
    const { id, token } = await reader();
    const request = body({ id: 'mg-1', event: 'complained', 'user-variables': { recap_token: token } });
    expect((await post('mailgun', request)).status).toBe(200);
    expect(await statusOf(id)).toMatchObject({ status: 'complained' });
    expect((await post('mailgun', request)).status).toBe(403);
  });

  it('a forged, stale or unsigned failure changes nothing', async () => {
    const { id, token } = await reader();
    const event = {
      id: 'mg-2',
      event: 'failed',
      severity: 'permanent',
      'user-variables': { recap_token: token },
    };
    expect((await post('mailgun', body(event, now(), undefined, 'not-the-key'))).status).toBe(403);
    expect((await post('mailgun', body(event, now() - 600))).status).toBe(403);
    expect((await post('mailgun', JSON.stringify({ 'event-data': event }))).status).toBe(401);
    expect(await statusOf(id)).toMatchObject({ status: 'active', log: [] });
  });
});

describe('Postmark webhook', () => {
  const auth = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });

  it('a soft bounce with the right credentials counts once; wrong or no credentials change nothing', async () => {
    const { id, token } = await reader();
    // Postmark's ids are 64-bit; as JS numbers these two would be the same event.
    const bounce = (postmarkId: string) =>
      `{"RecordType":"Bounce","ID":${postmarkId},"Type":"SoftBounce","Metadata":{"recap-token":"${token}"}}`;
    const event = bounce('4323372036854775807');
    expect((await post('postmark', event)).status).toBe(401);
    expect((await post('postmark', event, auth(postmark.user, 'wrong-password-0123456789'))).status).toBe(
      403,
    );
    expect(await statusOf(id)).toMatchObject({ soft: 0, log: [] });
    expect((await post('postmark', event, auth(postmark.user, postmark.password))).status).toBe(200);
    expect((await post('postmark', event, auth(postmark.user, postmark.password))).status).toBe(200);
    expect(await statusOf(id)).toMatchObject({ status: 'active', soft: 1, log: ['soft-bounce'] });
    const next = bounce('4323372036854775808');
    expect((await post('postmark', next, auth(postmark.user, postmark.password))).status).toBe(200);
    const seen = await app.db
      .selectFrom('webhook_events')
      .select('event_id')
      .where('provider', '=', 'postmark')
      .orderBy('event_id')
      .execute();
    expect(seen.map((row) => row.event_id)).toEqual([
      'Bounce:4323372036854775807',
      'Bounce:4323372036854775808',
    ]);
  });
});

describe('SES through SNS', () => {
  function snsMessage(fields: Record<string, string>, version: '1' | '2' = '2', key = snsKey) {
    const message: Record<string, string> = { ...fields, SignatureVersion: version, SigningCertURL: certUrl };
    const names =
      message.Type === 'Notification'
        ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const canonical = names
      .filter((name) => message[name] !== undefined)
      .map((name) => `${name}\n${message[name]}\n`)
      .join('');
    message.Signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(canonical), key).toString(
      'base64',
    );
    return JSON.stringify(message);
  }
  const notification = (messageId: string, ses: unknown, extra: Record<string, string> = {}) => ({
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: topicArn,
    Message: JSON.stringify(ses),
    Timestamp: new Date().toISOString(),
    ...extra,
  });
  const plain = { 'content-type': 'text/plain; charset=UTF-8' };

  it('confirms a subscription of a listed topic through the fetcher, and not one of another topic', async () => {
    const confirm = (topic: string) => ({
      Type: 'SubscriptionConfirmation',
      MessageId: `sub-${topic.length}`,
      Token: 'token-1',
      TopicArn: topic,
      Message: 'You have chosen to subscribe',
      SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=token-1`,
      Timestamp: new Date().toISOString(),
    });
    const other = 'arn:aws:sns:eu-west-1:123456789012:someone-else';
    expect((await post('ses', snsMessage(confirm(other)), plain)).status).toBe(403);
    expect(fetched.filter((url) => url.includes('Action=ConfirmSubscription'))).toEqual([]);
    expect((await post('ses', snsMessage(confirm(topicArn)), plain)).status).toBe(200);
    expect(fetched.filter((url) => url.includes('Action=ConfirmSubscription'))).toHaveLength(1);
  });

  it('a signed permanent bounce found by the relay message id suppresses (SignatureVersion 1 and 2); the certificate is fetched once', async () => {
    const one = await reader('0100018c-ses-relay-1');
    const two = await reader('0100018c-ses-relay-2');
    const bounce = (relayId: string) => ({
      notificationType: 'Bounce',
      bounce: {
        bounceType: 'Permanent',
        bouncedRecipients: [{ status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 unknown' }],
      },
      mail: { messageId: relayId },
    });
    expect(
      (await post('ses', snsMessage(notification('sns-1', bounce('0100018c-ses-relay-1')), '1'), plain))
        .status,
    ).toBe(200);
    expect(
      (await post('ses', snsMessage(notification('sns-2', bounce('0100018c-ses-relay-2')), '2'), plain))
        .status,
    ).toBe(200);
    expect(await statusOf(one.id)).toMatchObject({ status: 'bounced' });
    expect(await statusOf(two.id)).toMatchObject({ status: 'bounced' });
    expect(fetched.filter((url) => url === certUrl)).toHaveLength(1);
  });

  it('a transient bounce counts once, by the tag; a complaint marks complained; repeats count once', async () => {
    const soft = await reader();
    const complainer = await reader();
    const softEvent = snsMessage(
      notification('sns-soft', {
        eventType: 'Bounce',
        bounce: { bounceType: 'Transient', bouncedRecipients: [{ status: '4.2.2' }] },
        mail: { messageId: 'unrelated', tags: { recap_token: [soft.token] } },
      }),
    );
    expect((await post('ses', softEvent, plain)).status).toBe(200);
    expect((await post('ses', softEvent, plain)).status).toBe(200);
    expect(await statusOf(soft.id)).toMatchObject({ status: 'active', soft: 1, log: ['soft-bounce'] });
    const complaint = snsMessage(
      notification('sns-complaint', {
        notificationType: 'Complaint',
        complaint: { complaintFeedbackType: 'abuse' },
        mail: { tags: { recap_token: [complainer.token] } },
      }),
    );
    expect((await post('ses', complaint, plain)).status).toBe(200);
    expect(await statusOf(complainer.id)).toMatchObject({ status: 'complained' });
  });

  it('forged, stale, foreign-certificate, other-topic and unsigned messages change nothing and fetch nothing foreign', async () => {
    const victim = await reader('0100018c-ses-victim');
    const ses = {
      notificationType: 'Bounce',
      bounce: { bounceType: 'Permanent' },
      mail: { messageId: '0100018c-ses-victim' },
    };
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect((await post('ses', snsMessage(notification('sns-f', ses), '2', otherKey), plain)).status).toBe(
      403,
    );
    const stale = notification('sns-old', ses, {
      Timestamp: new Date(Date.now() - 2 * 3_600_000).toISOString(),
    });
    expect((await post('ses', snsMessage(stale), plain)).status).toBe(403);
    const foreign = JSON.parse(snsMessage(notification('sns-evil', ses)));
    foreign.SigningCertURL = 'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem';
    expect((await post('ses', JSON.stringify(foreign), plain)).status).toBe(403);
    const elsewhere = notification('sns-topic', ses, {
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:other',
    });
    expect((await post('ses', snsMessage(elsewhere), plain)).status).toBe(403);
    expect((await post('ses', JSON.stringify(notification('sns-u', ses)), plain)).status).toBe(401);
    expect(fetched.every((url) => url.startsWith('https://sns.eu-west-1.amazonaws.com/'))).toBe(true);
    expect(await statusOf(victim.id)).toMatchObject({ status: 'active', log: [] });
  });

  it('a body over 256 KB is refused with 413', async () => {
    const answer = await post('ses', 'x'.repeat(300 * 1024), plain);
    expect(answer.status).toBe(413);
  });
});
