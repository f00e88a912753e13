import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { ConfigError, maskUserinfo, redactUrl } from './errors.ts';
import { defaultLinkBase } from './http-address.ts';
import { describeWeakSecret } from './secret-strength.ts';

export { ConfigError } from './errors.ts';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''], { error: 'expected true or false' })
    .optional()
    .transform((value) =>
      value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value),
    );

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .positive()
    .default(fallback);

const url = (protocols: string[], what: string) =>
  optionalString.refine(
    (value) => {
      if (value === undefined) return true;
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected ${what}` },
  );

const isTimeZone = (value: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

/** A rate written as a percentage, e.g. "5%" or "0.3%", read as a fraction (0.05, 0.003). */
const percentage = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((value) => /^\d+(\.\d+)?\s*%$/.test(value) && Number.parseFloat(value) <= 100, {
      message: 'expected a percentage such as 5% or 0.3%',
    })
    .transform((value) => Number.parseFloat(value) / 100);

/** `HH:MM`, 24-hour clock. */
const clockTime = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((value) => /^([01]\d|2[0-3]):[0-5]\d$/.test(value), {
      message: 'expected a time of day as HH:MM, such as 08:00',
    })
    .transform((value) => value);

/** A span of time: `90s`, `10m`, `1h`, or a bare number of seconds; read as milliseconds. */
const duration = (fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .refine((value) => /^\d+(\.\d+)?\s*(ms|s|m|min|h)?$/.test(value) && Number.parseFloat(value) > 0, {
      message: 'expected a duration such as 90s, 10m or 1h',
    })
    .transform((value) => {
      const unit = /(ms|s|m|min|h)$/.exec(value)?.[1] ?? 's';
      const scale: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
      return Math.round(Number.parseFloat(value) * (scale[unit] ?? 1000));
    });

/**
 * `gmail.com=20,yahoo.com=10,mx:google.com=20`: messages per second per recipient domain, and per
 * mailbox provider (`mx:<suffix of the MX host>`) for every domain whose mail that provider takes.
 */
const domainLimits = optionalString
  .refine(
    (value) =>
      value === undefined ||
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
        .every(
          (part) =>
            /^(mx:)?[a-z0-9.-]+\.[a-z0-9-]+=\d+(\.\d+)?$/i.test(part) && Number(part.split('=')[1]) > 0,
        ),
    {
      message:
        'expected domain=messages per second pairs, such as gmail.com=20,yahoo.com=10 (mx:google.com=20 for a mailbox provider)',
    },
  )
  .transform((value) => {
    const limits: Record<string, number> = {};
    const mx: Record<string, number> = {};
    for (const part of (value ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [key, rate] = part.split('=') as [string, string];
      const name = key.toLowerCase();
      if (name.startsWith('mx:')) mx[name.slice(3).replace(/^\.+/, '')] = Number(rate);
      else limits[name] = Number(rate);
    }
    return { limits, mx };
  });

/** One relay of SMTP_URLS: its URL as nodemailer gets it (without `weight`), its weight and its name. */
export interface RelaySetting {
  /** What status lines and the deliveries' counts call it: host:port, with #2, #3… when repeated. */
  name: string;
  url: string;
  weight: number;
}

/** `smtp://a:587?weight=3,smtp://b:587`: relay URLs, each with an optional positive `weight` (default 1). */
const relayUrls = optionalString
  .refine(
    (value) => {
      if (value === undefined) return true;
      const parts = value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      return (
        parts.length > 0 &&
        parts.every((part) => {
          try {
            const url = new URL(part);
            const weight = url.searchParams.get('weight');
            return (
              ['smtp:', 'smtps:'].includes(url.protocol) &&
              (weight === null || (/^\d+(\.\d+)?$/.test(weight) && Number(weight) > 0))
            );
          } catch {
            return false;
          }
        })
      );
    },
    {
      message:
        'expected comma-separated smtp:// or smtps:// URLs, each with an optional positive weight (smtp://a.example:587?weight=3,smtp://b.example:587?weight=1)',
    },
  )
  .transform((value) => (value === undefined ? [] : parseRelayUrls(value)));

/**
 * Splits SMTP_URLS into relays: `weight` is ours and leaves the URL here, since nodemailer reads every
 * query parameter as an option. Names are host:port, numbered when two relays share one.
 */
export function parseRelayUrls(value: string): RelaySetting[] {
  const seen = new Map<string, number>();
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const url = new URL(part);
      const weighted = url.searchParams.has('weight');
      const weight = Number(url.searchParams.get('weight') ?? 1);
      url.searchParams.delete('weight');
      const port = url.port || (url.protocol === 'smtps:' ? '465' : '587');
      const base = `${url.hostname}:${port}`;
      const count = (seen.get(base) ?? 0) + 1;
      seen.set(base, count);
      return {
        name: count === 1 ? base : `${base}#${count}`,
        url: weighted ? url.toString() : part,
        weight,
      };
    });
}

/** One source of a CSP frame-ancestors list: `*`, `'self'`, `'none'`, a scheme (`https:`) or a host with optional scheme and port. */
const CSP_ANCESTOR =
  /^(\*|'self'|'none'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*:\/\/)?(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:(\d{1,5}|\*))?)$/i;

/** What SMTP_PROVIDER accepts: the relays whose echo headers and webhooks the project knows, or other. */
export const RELAY_PROVIDERS = ['ses', 'sendgrid', 'mailgun', 'postmark', 'resend', 'other'] as const;
export type RelayProvider = (typeof RELAY_PROVIDERS)[number];

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'a postgres:// URL'),
  RECAP_DATA_DIR: z.string().default('./data'),
  SMTP_URL: url(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL'),
  SMTP_URLS: relayUrls,
  SYSTEM_SMTP_URL: url(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL'),
  SMTP_MAX_CONNECTIONS: positiveInt(5),
  SMTP_PROVIDER: z
    .enum([...RELAY_PROVIDERS, ''], { error: `expected one of ${RELAY_PROVIDERS.join(', ')}` })
    .optional()
    .transform((value) => value || undefined),
  SES_SNS_TOPIC_ARNS: optionalString,
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalString,
  MAILGUN_WEBHOOK_SIGNING_KEY: optionalString,
  POSTMARK_WEBHOOK_USER: optionalString,
  POSTMARK_WEBHOOK_PASSWORD: optionalString,
  STANDARD_WEBHOOK_SECRET: optionalString,
  RESEND_WEBHOOK_SECRET: optionalString,
  SEND_RATE: z.coerce.number({ error: 'expected messages per second' }).nonnegative().default(0),
  SEND_BATCH_SIZE: positiveInt(500),
  SEND_MAX_CONSECUTIVE_FAILURES: positiveInt(50),
  SEND_DOMAIN_LIMITS: domainLimits,
  SEND_MAX_BOUNCE_RATE: percentage('5%'),
  SEND_MAX_COMPLAINT_RATE: percentage('0.3%'),
  SEND_DB_OUTAGE_MAX: duration('10m'),
  RECAP_DELIVERY: z.enum(['now', 'local'], { error: 'expected now or local' }).default('now'),
  RECAP_LOCAL_TIME: clockTime('08:00'),
  SUBJECT_TEST_SHARE: percentage('20%').refine((value) => value > 0, {
    message: 'expected a percentage above 0%, such as 20%',
  }),
  SUBJECT_TEST_HOURS: z.coerce
    .number({ error: 'expected hours, such as 4 or 0.5' })
    .positive('expected more than 0 hours')
    .max(168, 'expected at most 168 hours (a week)')
    .default(4),
  SUBJECT_TEST_MIN_CLICKS: positiveInt(20),
  SUBJECT_TEST_CONFIDENCE: percentage('95%').refine((value) => value >= 0.5 && value < 1, {
    message: 'expected a percentage from 50% to below 100%, such as 95%',
  }),
  RECAP_OUTBOX_DIR: z.string().default('./outbox'),
  RECAP_MAX_HTML_BYTES: z.coerce
    .number({ error: 'expected a whole number of bytes' })
    .int('expected a whole number of bytes')
    .min(20_000, 'expected at least 20000 bytes (Gmail clips at about 102000)')
    .default(90 * 1024),
  PUBLIC_URL: url(['http:', 'https:'], 'an http(s):// URL'),
  RECAP_SECRET: optionalString.refine((value) => value === undefined || value.length >= 32, {
    message: 'expected at least 32 characters',
  }),
  RECAP_PREVIOUS_SECRETS: optionalString,
  RECAP_FROM_NAME: z.string().min(1).default('Weekly AI Recap'),
  RECAP_FROM_EMAIL: z.email({ error: 'expected an email address' }).default('recap@localhost.localdomain'),
  RECAP_POSTAL_ADDRESS: z
    .string()
    .min(1)
    .default('Weekly AI Recap · 1 Example Street · 10115 Berlin · Germany'),
  RECAP_TZ: z
    .string()
    .default('UTC')
    .refine(isTimeZone, { message: 'expected an IANA time zone such as Europe/Berlin' }),
  RECAP_CRON: z.string().default('0 8 * * 1'),
  PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000),
  HOST: optionalString.transform((value) => value ?? '127.0.0.1'),
  TRUST_PROXY: optionalString,
  EDITOR_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 24, {
    message: 'expected at least 24 characters (e.g. openssl rand -base64 24); shorter tokens can be guessed',
  }),
  EDITOR_URL: url(['http:', 'https:'], 'an http(s):// URL where the editor is opened'),
  EDITOR_HOSTS: optionalString.refine(
    (value) => value === undefined || value.split(',').every((entry) => parseHostEntry(entry) !== null),
    {
      message:
        'expected comma-separated host names, each optionally with :port (e.g. localhost,editor.lan:3000)',
    },
  ),
  REQUIRE_APPROVAL: z.enum(['true', 'false', '']).optional(),
  TRACKING_ENABLED: booleanFlag(true),
  PERSONAL_ORDER: z
    .enum(['on', 'off', ''], { error: 'expected on or off' })
    .optional()
    .transform((value) => value !== 'off'),
  PERSONAL_ORDER_HOLDOUT: z
    .string()
    .trim()
    .default('0.10')
    .refine((value) => /^\d+(\.\d+)?%$/.test(value) || /^(0(\.\d+)?|1(\.0+)?)$/.test(value), {
      message: 'expected a share between 0 and 1 (such as 0.10) or a percentage (such as 10%)',
    })
    .transform((value) => (value.endsWith('%') ? Number.parseFloat(value) / 100 : Number.parseFloat(value)))
    .refine((value) => value >= 0 && value <= 1, {
      message: 'expected a share between 0 and 1 (such as 0.10)',
    }),
  TRACKING_ACK_AFTER_WRITE: booleanFlag(false),
  TRACKING_DEFAULT: booleanFlag(true),
  SUNSET_AFTER_ISSUES: z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(0)
    .default(26),
  SUNSET_GRACE_DAYS: positiveInt(14),
  TRACKING_RETENTION_DAYS: positiveInt(400),
  TRACKING_SPOOL_MAX_BYTES: positiveInt(256 * 1024 * 1024),
  STORIES_PER_SEGMENT: positiveInt(7),
  MIN_STORIES_PER_SEGMENT: positiveInt(3),
  RECAP_SOURCE_AUTHORITY_FILE: optionalString,
  TEST_RECIPIENTS: optionalString,
  BOUNCE_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BOUNCE_SMTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  BOUNCE_IMAP_URL: url(
    ['imaps:', 'imap:'],
    'an imaps:// URL, e.g. imaps://user:password@imap.example.org/INBOX',
  ),
  BOUNCE_IMAP_POLL_SECONDS: positiveInt(60),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SIGNUP_CONFIRM_INTERVAL: z.coerce
    .number({ error: 'expected seconds between confirmation mails to one address' })
    .int('expected a whole number of seconds')
    .nonnegative()
    .default(600),
  SIGNUP_MIN_FILL_SECONDS: z.coerce
    .number({ error: 'expected seconds' })
    .int('expected a whole number of seconds')
    .nonnegative()
    .default(3),
  RECAP_DESCRIPTION: z
    .string()
    .trim()
    .max(500, 'expected at most 500 characters (one or two sentences)')
    .default('The AI news that matters for your work, picked for your role and told in a three-minute read.'),
  PRIVACY_URL: url(['http:', 'https:'], 'an http(s):// URL of your privacy notice'),
  ARCHIVE_PUBLIC: booleanFlag(true),
  SIGNUP_EMBED_ANCESTORS: z
    .string()
    .trim()
    .default('*')
    .refine((value) => value.split(/\s+/).every((source) => CSP_ANCESTOR.test(source)), {
      message:
        "expected space-separated CSP frame-ancestors sources, such as * or https://example.com https://*.example.org, or 'none'",
    }),
  SOFT_BOUNCE_LIMIT: positiveInt(3),
  BOUNCE_DOMAIN: optionalString,
  DKIM_DOMAIN: optionalString,
  DKIM_SELECTOR: optionalString,
  DKIM_PRIVATE_KEY_FILE: optionalString,
  ALERT_EMAIL: optionalString,
  ALERT_WEBHOOK_URL: url(['http:', 'https:'], 'an http(s):// URL'),
  INGEST_TOKEN: optionalString.refine((value) => value === undefined || value.length >= 24, {
    message: 'expected at least 24 characters',
  }),
  INGEST_PREVIOUS_TOKENS: optionalString,
  INGEST_MAX_BYTES: positiveInt(64 * 1024 * 1024),
  INGEST_RATE_LIMIT: positiveInt(60),
  INGEST_CONCURRENT_UPLOADS: positiveInt(4),
  INGEST_MIN_BYTES_PER_SECOND: positiveInt(16 * 1024),
  INGEST_SLOW_GRACE_SECONDS: positiveInt(10),
  RECAP_STORIES_URL: optionalString,
  RECAP_STORIES_AUTH: optionalString,
  RECAP_INGEST_CRON: z.string().default('*/15 * * * *'),
  INGEST_TIMEOUT_SECONDS: positiveInt(30),
  INGEST_RETRIES: z.coerce.number({ error: 'expected a whole number' }).int().min(0).max(10).default(2),
  LOG_FORMAT: z
    .enum(['json', 'pretty', ''], { error: 'expected json or pretty' })
    .optional()
    .transform((value) => value || undefined),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

/** Every environment variable the configuration reads (each is documented in .env.example). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  env: 'development' | 'production' | 'test';
  databaseUrl: string | undefined;
  dataDir: string;
  smtp: {
    /** SMTP_URL, else the first of SMTP_URLS (without its weight): the relay doctor and the demo name. */
    url: string | undefined;
    /**
     * The bulk relays, each its own pool: SMTP_URLS, or SMTP_URL as the one relay; empty without
     * either (mail goes to the outbox folder).
     */
    relays: RelaySetting[];
    /** SYSTEM_SMTP_URL: the relay of sign-up, welcome, goodbye, re-engagement, alert and test mails; unset means the bulk relays, through a pool of their own. */
    systemUrl: string | undefined;
    maxConnections: number;
    sendRate: number;
    /** SMTP_PROVIDER, else told by SMTP_URL's host: which relay's echo headers bulk mail carries. */
    provider: RelayProvider;
  };
  /** Secrets of the provider webhooks (POST /webhooks/<provider>); a provider without one is not served. */
  webhooks: WebhookSecrets;
  send: {
    batchSize: number;
    maxConsecutiveFailures: number;
    /** Messages per second per recipient domain, across all workers; other domains are not limited. */
    domainLimits: Record<string, number>;
    /**
     * Messages per second per mailbox provider (`mx:<suffix>` keys of SEND_DOMAIN_LIMITS), keyed by the
     * suffix of the MX host: every recipient domain whose MX host ends so shares the limit, across all workers.
     */
    mxLimits: Record<string, number>;
    /** Hard bounces / attempts above which a send pauses itself (after at least 500 attempts). */
    maxBounceRate: number;
    /** Complaints / attempts above which a send pauses itself (after at least 500 attempts). */
    maxComplaintRate: number;
    /** How long a send waits for PostgreSQL to come back before it pauses itself (ms). */
    dbOutageMaxMs: number;
    /** 'now': everyone at once; 'local': each subscriber at `localTime` in their own time zone. */
    delivery: 'now' | 'local';
    /** HH:MM, for local-time delivery. */
    localTime: string;
    /** Subject tests: the tracked share that gets the variants, hours to the decision, and its rule. */
    subjectTest: {
      share: number;
      hours: number;
      minHumanClicks: number;
      confidence: number;
    };
  };
  outboxDir: string;
  /** Gmail clip guard: an edition whose tracked HTML would pass this leaves out stories until it fits. */
  maxHtmlBytes: number;
  /**
   * Base of every link in mail (no trailing slash): PUBLIC_URL, else the server this configuration
   * starts (`http://localhost:PORT`, or `http://HOST:PORT` for a HOST that is not loopback or wildcard).
   */
  publicUrl: string;
  /** Whether PUBLIC_URL was set; when not, commands that mail links refuse to run in production. */
  publicUrlSet: boolean;
  secrets: { current: string; previous: string[] };
  sender: { name: string; email: string; postalAddress: string; bounceDomain: string };
  timeZone: string;
  cron: string;
  http: {
    port: number;
    host: string;
    editorToken: string | undefined;
    /**
     * Where editors open the editor (EDITOR_URL, no trailing slash): links to it (the test-send notice)
     * start here. Undefined: the server's own address as for PUBLIC_URL, with the port it listens on.
     */
    editorUrl: string | undefined;
    /**
     * Host header values the editor answers (EDITOR_HOSTS, lower-cased, `name` or `name:port`). Undefined:
     * localhost, 127.0.0.1 and [::1] and a non-wildcard HOST with the server's port, plus EDITOR_URL's host.
     */
    editorHosts: string[] | undefined;
  };
  /**
   * Reverse proxies whose X-Forwarded-For is believed (client IP for rate limits and the consent log):
   * true, a hop count, or addresses/CIDRs. Undefined: the socket's address.
   */
  trustProxy: boolean | number | string[] | undefined;
  requireApproval: boolean;
  trackingEnabled: boolean;
  /**
   * PERSONAL_ORDER: tracked copies are sent in each reader's own order of the movable stories (stored
   * with the delivery); off: every copy in the editorial order.
   */
  personalOrder: boolean;
  /** PERSONAL_ORDER_HOLDOUT: share of tracked readers kept on the editorial order to measure it (0..1). */
  personalOrderHoldout: number;
  /** Answer a pixel or click only once its event is in PostgreSQL (else queued, flushed within ms and on shutdown). */
  trackingAckAfterWrite: boolean;
  /** Whether a new subscriber imported without a tracking cell is tracked (never the sign-up form's box). */
  trackingDefault: boolean;
  /** A tracked reader with no human open or click in this many sent issues is asked once; 0 turns sunsetting off. */
  sunset: { afterIssues: number; graceDays: number };
  /** Raw opens and clicks are kept this many days (whole monthly partitions dropped); rollups stay. */
  trackingRetentionDays: number;
  /** Bound of each server process's spool of events the database could not take (RECAP_DATA_DIR/tracking-spool). */
  trackingSpoolMaxBytes: number;
  selection: {
    storiesPerSegment: number;
    minStoriesPerSegment: number;
    /** Source authority entries (source name or host -> 0..1) replacing the defaults; undefined keeps them. */
    authority: Record<string, number> | undefined;
  };
  testRecipients: string[];
  bounceSmtpPort: number | undefined;
  /** Address the bounce listener binds (default 127.0.0.1: the local MTA forwards to it). */
  bounceSmtpHost: string;
  /** BOUNCE_IMAP_URL: the mailbox `recap serve` and `recap schedule` poll for bounces; undefined: none. */
  bounceMailbox: BounceMailboxSettings | undefined;
  /** `recap serve`'s Prometheus listener (METRICS_PORT; unset: none); METRICS_HOST is every command's bind address. */
  metrics: { port: number | undefined; host: string };
  signUp: {
    /** At most one confirmation mail per address per this many seconds (held in the database). */
    confirmIntervalSeconds: number;
    /** A form posted sooner than this after it was served is a bot's (signed timestamp in the form). */
    minFillSeconds: number;
  };
  /** What the public pages (sign-up, archive) say and allow. */
  publicPages: {
    /** RECAP_DESCRIPTION: the sign-up page's (and the archive's) one or two sentences about the recap. */
    description: string;
    /** PRIVACY_URL: linked from the sign-up form's privacy line. */
    privacyUrl: string | undefined;
    /** ARCHIVE_PUBLIC: the archive index, feed and sign-up page are indexable; false: noindex, no index page or feed. */
    archivePublic: boolean;
    /** SIGNUP_EMBED_ANCESTORS: the sites (CSP frame-ancestors sources) that may frame `/subscribe?embed=1`. */
    embedAncestors: string;
  };
  /** Consecutive issues that soft-bounce before an address is suppressed. */
  softBounceLimit: number;
  dkim: { domain: string; selector: string; privateKeyFile: string } | undefined;
  /** Where operator alerts go (paused or finished sends, a missing approval, a failing source); empty: none. */
  alerts: { emails: string[]; webhookUrl: string | undefined };
  ingest: IngestConfig;
  /**
   * The long-running services' log (serve, schedule, worker --follow): one JSON line per event, or a
   * human line per event (`format` undefined: human on a terminal, JSON otherwise). Stack traces only
   * at `debug`.
   */
  log: { format: 'json' | 'pretty' | undefined; level: LogLevel };
}

/** An IMAP mailbox over TLS: imaps:// (TLS from the first byte, port 993) or imap:// (STARTTLS required, port 143). */
export interface BounceMailboxSettings {
  host: string;
  port: number;
  /** true: TLS from the first byte (imaps://); false: STARTTLS, which must succeed (imap://). */
  implicitTls: boolean;
  user: string;
  password: string;
  /** The folder polled (the URL's path, default INBOX). */
  folder: string;
  /** The URL with its password masked, for logs. */
  label: string;
  pollMs: number;
}

export interface WebhookSecrets {
  /** SES_SNS_TOPIC_ARNS: the SNS topics whose messages are believed; empty: /webhooks/ses is off. */
  sesTopicArns: string[];
  /** Base64 DER ECDSA key of SendGrid's signed event webhook. */
  sendgridPublicKey: string | undefined;
  mailgunSigningKey: string | undefined;
  postmark: { user: string; password: string } | undefined;
  /** `whsec_<base64>` secrets of the Standard Webhooks scheme: the generic route and Resend's. */
  standardSecret: string | undefined;
  resendSecret: string | undefined;
}

/** Stories that arrive by themselves: the push API and the pulled feeds. */
export interface IngestConfig {
  /** Bearer tokens POST /api/stories accepts (the current one first); empty: the API does not exist. */
  tokens: string[];
  /** Largest body or feed, in bytes. */
  maxBytes: number;
  /** API requests per token and minute. */
  ratePerMinute: number;
  /**
   * API uploads in progress at once per token (body being received or imported); each is spooled to
   * disk up to maxBytes, so a token's spool holds at most concurrentUploads × maxBytes.
   */
  concurrentUploads: number;
  /** An API body whose average rate falls below this, once slowGraceMs has passed, is refused (408). */
  minBytesPerSecond: number;
  slowGraceMs: number;
  /** Feeds pulled by `recap ingest` and the schedule. */
  urls: string[];
  /** Value of the Authorization header sent to the feeds. */
  auth: string | undefined;
  /** When the schedule (or, on the embedded database, `recap serve`) pulls the feeds. */
  cron: string;
  /** No answer, or no data, for this long aborts an attempt. */
  timeoutMs: number;
  /** Attempts after the first when a feed fails (network, timeout, 5xx, 429). */
  retries: number;
}

/** What a command line says about where the server listens (`recap serve --port --host`): it wins over PORT and HOST. */
export interface ListenOverrides {
  port?: number;
  host?: string;
}

/**
 * Reads the environment (and `.env` in the working directory when present) once, validates it and
 * returns a frozen Config. Throws ConfigError naming every bad variable and what it expected.
 * Without RECAP_SECRET outside production, a secret is generated once and kept in the data directory.
 * `listen` (already validated by the CLI) replaces PORT and HOST before anything follows them, so an
 * unset PUBLIC_URL points at the address the server really listens on.
 */
// Long: one mapping from the parsed variables to the frozen Config, a line or two per setting.
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { dotenvPath?: string; listen?: ListenOverrides } = {},
): Config {
  const listen = options.listen ?? {};
  const merged: Record<string, string | undefined> = {
    ...readDotenv(options.dotenvPath ?? '.env'),
    ...env,
    ...(listen.port === undefined ? {} : { PORT: String(listen.port) }),
    ...(listen.host === undefined ? {} : { HOST: listen.host }),
  };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = merged[name] === undefined ? '' : ` (got ${JSON.stringify(maskValue(name, merged[name]))})`;
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.SMTP_URL && e.SMTP_URLS.length > 0) {
    throw new ConfigError(
      'invalid configuration: SMTP_URL and SMTP_URLS are both set: keep SMTP_URL for one relay or SMTP_URLS for several, not both',
    );
  }
  const relays: RelaySetting[] = e.SMTP_URL
    ? [{ ...parseRelayUrls(e.SMTP_URL)[0], url: e.SMTP_URL, weight: 1 } as RelaySetting]
    : e.SMTP_URLS;
  const dkimParts = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY_FILE];
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    throw new ConfigError(
      'invalid configuration:\n  DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE: expected all three or none',
    );
  }
  if (e.NODE_ENV === 'production' && !e.RECAP_SECRET) {
    throw new ConfigError(
      'invalid configuration:\n  RECAP_SECRET: expected at least 32 characters (required in production)',
    );
  }
  const previousSecrets = (e.RECAP_PREVIOUS_SECRETS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (e.NODE_ENV === 'production') refuseWeakSecrets(e.RECAP_SECRET ?? '', previousSecrets);
  if (e.NODE_ENV === 'production' && e.TRUST_PROXY === 'true') {
    throw new ConfigError(
      "invalid configuration:\n  TRUST_PROXY: true lets any client pick its address in production; set the number of proxy hops (e.g. 1) or the proxies' addresses/CIDRs (e.g. 10.0.0.0/8)",
    );
  }
  const dataDir = path.resolve(e.RECAP_DATA_DIR);
  const isEmail = (value: string) => z.email().safeParse(value).success;
  const testRecipients = commaList('TEST_RECIPIENTS', e.TEST_RECIPIENTS, isEmail, 'email addresses').map(
    (address) => address.toLowerCase(),
  );
  const alertEmails = commaList('ALERT_EMAIL', e.ALERT_EMAIL, isEmail, 'email addresses');
  const storyUrls = commaList('RECAP_STORIES_URL', e.RECAP_STORIES_URL, isHttpUrl, 'http(s) URLs');
  const ingestTokens = e.INGEST_TOKEN
    ? [
        e.INGEST_TOKEN,
        ...(e.INGEST_PREVIOUS_TOKENS ?? '')
          .split(',')
          .map((token) => token.trim())
          .filter(Boolean),
      ]
    : [];
  if (ingestTokens.some((token) => token.length < 24)) {
    throw new ConfigError(
      'invalid configuration:\n  INGEST_PREVIOUS_TOKENS: expected comma-separated tokens of at least 24 characters',
    );
  }
  const config: Config = {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    smtp: {
      url: e.SMTP_URL ?? relays[0]?.url,
      relays,
      systemUrl: e.SYSTEM_SMTP_URL,
      maxConnections: e.SMTP_MAX_CONNECTIONS,
      sendRate: e.SEND_RATE,
      provider: e.SMTP_PROVIDER ?? relayProviderOfHost(e.SMTP_URL ?? relays[0]?.url),
    },
    webhooks: webhookSecrets(e),
    send: {
      batchSize: e.SEND_BATCH_SIZE,
      maxConsecutiveFailures: e.SEND_MAX_CONSECUTIVE_FAILURES,
      domainLimits: e.SEND_DOMAIN_LIMITS.limits,
      mxLimits: e.SEND_DOMAIN_LIMITS.mx,
      maxBounceRate: e.SEND_MAX_BOUNCE_RATE,
      maxComplaintRate: e.SEND_MAX_COMPLAINT_RATE,
      dbOutageMaxMs: e.SEND_DB_OUTAGE_MAX,
      delivery: e.RECAP_DELIVERY,
      localTime: e.RECAP_LOCAL_TIME,
      subjectTest: {
        share: e.SUBJECT_TEST_SHARE,
        hours: e.SUBJECT_TEST_HOURS,
        minHumanClicks: e.SUBJECT_TEST_MIN_CLICKS,
        confidence: e.SUBJECT_TEST_CONFIDENCE,
      },
    },
    outboxDir: path.resolve(e.RECAP_OUTBOX_DIR),
    maxHtmlBytes: e.RECAP_MAX_HTML_BYTES,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? defaultLinkBase(e.HOST, e.PORT),
    publicUrlSet: e.PUBLIC_URL !== undefined,
    secrets: {
      current: e.RECAP_SECRET ?? generatedSecret(dataDir),
      previous: previousSecrets,
    },
    sender: {
      name: e.RECAP_FROM_NAME,
      email: e.RECAP_FROM_EMAIL,
      postalAddress: e.RECAP_POSTAL_ADDRESS,
      bounceDomain: e.BOUNCE_DOMAIN ?? e.RECAP_FROM_EMAIL.split('@')[1] ?? 'localhost',
    },
    timeZone: e.RECAP_TZ,
    cron: e.RECAP_CRON,
    http: {
      port: e.PORT,
      host: e.HOST,
      editorToken: e.EDITOR_TOKEN,
      editorUrl: e.EDITOR_URL?.replace(/\/+$/, ''),
      editorHosts: e.EDITOR_HOSTS?.split(',').flatMap((entry) => parseHostEntry(entry) ?? []),
    },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    requireApproval: e.REQUIRE_APPROVAL ? e.REQUIRE_APPROVAL === 'true' : e.NODE_ENV === 'production',
    trackingEnabled: e.TRACKING_ENABLED,
    personalOrder: e.PERSONAL_ORDER,
    personalOrderHoldout: e.PERSONAL_ORDER_HOLDOUT,
    trackingAckAfterWrite: e.TRACKING_ACK_AFTER_WRITE,
    trackingDefault: e.TRACKING_DEFAULT,
    sunset: { afterIssues: e.SUNSET_AFTER_ISSUES, graceDays: e.SUNSET_GRACE_DAYS },
    trackingRetentionDays: e.TRACKING_RETENTION_DAYS,
    trackingSpoolMaxBytes: e.TRACKING_SPOOL_MAX_BYTES,
    selection: {
      storiesPerSegment: e.STORIES_PER_SEGMENT,
      minStoriesPerSegment: e.MIN_STORIES_PER_SEGMENT,
      authority: e.RECAP_SOURCE_AUTHORITY_FILE ? readAuthorityFile(e.RECAP_SOURCE_AUTHORITY_FILE) : undefined,
    },
    testRecipients,
    bounceSmtpPort: e.BOUNCE_SMTP_PORT,
    bounceSmtpHost: e.BOUNCE_SMTP_HOST,
    bounceMailbox: bounceMailboxOf(e.BOUNCE_IMAP_URL, e.BOUNCE_IMAP_POLL_SECONDS),
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    signUp: {
      confirmIntervalSeconds: e.SIGNUP_CONFIRM_INTERVAL,
      minFillSeconds: e.SIGNUP_MIN_FILL_SECONDS,
    },
    publicPages: {
      description: e.RECAP_DESCRIPTION,
      privacyUrl: e.PRIVACY_URL,
      archivePublic: e.ARCHIVE_PUBLIC,
      embedAncestors: e.SIGNUP_EMBED_ANCESTORS.split(/\s+/).join(' '),
    },
    softBounceLimit: e.SOFT_BOUNCE_LIMIT,
    dkim:
      e.DKIM_DOMAIN && e.DKIM_SELECTOR && e.DKIM_PRIVATE_KEY_FILE
        ? { domain: e.DKIM_DOMAIN, selector: e.DKIM_SELECTOR, privateKeyFile: e.DKIM_PRIVATE_KEY_FILE }
        : undefined,
    alerts: { emails: alertEmails, webhookUrl: e.ALERT_WEBHOOK_URL },
    ingest: {
      tokens: ingestTokens,
      maxBytes: e.INGEST_MAX_BYTES,
      ratePerMinute: e.INGEST_RATE_LIMIT,
      concurrentUploads: e.INGEST_CONCURRENT_UPLOADS,
      minBytesPerSecond: e.INGEST_MIN_BYTES_PER_SECOND,
      slowGraceMs: e.INGEST_SLOW_GRACE_SECONDS * 1000,
      urls: storyUrls,
      auth: e.RECAP_STORIES_AUTH,
      cron: e.RECAP_INGEST_CRON,
      timeoutMs: e.INGEST_TIMEOUT_SECONDS * 1000,
      retries: e.INGEST_RETRIES,
    },
    log: { format: e.LOG_FORMAT, level: e.LOG_LEVEL },
  };
  return Object.freeze(config);
}

/** The relay SMTP_URL names, by its host (email-smtp.<region>.amazonaws.com is SES, …); 'other' when unknown. */
export function relayProviderOfHost(smtpUrl: string | undefined): RelayProvider {
  let host = '';
  try {
    host = smtpUrl ? new URL(smtpUrl).hostname.toLowerCase() : '';
  } catch {
    return 'other';
  }
  if (/^email-smtp(-fips)?\.[a-z0-9-]+\.amazonaws\.com$/.test(host)) return 'ses';
  if (host === 'smtp.sendgrid.net') return 'sendgrid';
  if (/^smtp(\.eu)?\.mailgun\.org$/.test(host)) return 'mailgun';
  if (/^smtp(-broadcasts)?\.postmarkapp\.com$/.test(host)) return 'postmark';
  if (host === 'smtp.resend.com') return 'resend';
  return 'other';
}

function bounceMailboxOf(value: string | undefined, pollSeconds: number): BounceMailboxSettings | undefined {
  if (value === undefined) return undefined;
  const parsed = new URL(value);
  const fail = (why: string): never => {
    throw new ConfigError(`invalid configuration:\n  BOUNCE_IMAP_URL: ${why} (got "${redactUrl(value)}")`);
  };
  if (!parsed.hostname) fail('expected a host');
  if (!parsed.username || !parsed.password)
    fail('expected the user and password in the URL, e.g. imaps://user:password@imap.example.org/INBOX');
  let folder: string;
  let user: string;
  let password: string;
  try {
    folder = decodeURIComponent(parsed.pathname.replace(/^\/+/, '').replace(/\/+$/, '')) || 'INBOX';
    user = decodeURIComponent(parsed.username);
    password = decodeURIComponent(parsed.password);
  } catch {
    return fail('expected percent-encoding (%40 for @) in the user, password and folder');
  }
  const implicitTls = parsed.protocol === 'imaps:';
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : implicitTls ? 993 : 143,
    implicitTls,
    user,
    password,
    folder,
    label: redactUrl(value),
    pollMs: pollSeconds * 1000,
  };
}

function webhookSecrets(e: z.infer<typeof envSchema>): WebhookSecrets {
  if ((e.POSTMARK_WEBHOOK_USER === undefined) !== (e.POSTMARK_WEBHOOK_PASSWORD === undefined))
    throw new ConfigError(
      'invalid configuration:\n  POSTMARK_WEBHOOK_USER, POSTMARK_WEBHOOK_PASSWORD: set both or neither',
    );
  for (const [name, value] of [
    ['STANDARD_WEBHOOK_SECRET', e.STANDARD_WEBHOOK_SECRET],
    ['RESEND_WEBHOOK_SECRET', e.RESEND_WEBHOOK_SECRET],
  ] as const) {
    if (value !== undefined && !/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(value))
      throw new ConfigError(
        `invalid configuration:\n  ${name}: expected whsec_ followed by the base64 secret`,
      );
  }
  if (e.POSTMARK_WEBHOOK_PASSWORD !== undefined && e.POSTMARK_WEBHOOK_PASSWORD.length < 16)
    throw new ConfigError(
      'invalid configuration:\n  POSTMARK_WEBHOOK_PASSWORD: expected at least 16 characters',
    );
  const topics = commaList(
    'SES_SNS_TOPIC_ARNS',
    e.SES_SNS_TOPIC_ARNS,
    (arn) => /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/.test(arn),
    'SNS topic ARNs',
  );
  return {
    sesTopicArns: topics,
    sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY,
    mailgunSigningKey: e.MAILGUN_WEBHOOK_SIGNING_KEY,
    postmark:
      e.POSTMARK_WEBHOOK_USER && e.POSTMARK_WEBHOOK_PASSWORD
        ? { user: e.POSTMARK_WEBHOOK_USER, password: e.POSTMARK_WEBHOOK_PASSWORD }
        : undefined,
    standardSecret: e.STANDARD_WEBHOOK_SECRET,
    resendSecret: e.RESEND_WEBHOOK_SECRET,
  };
}

/**
 * The one line that refuses a command mailing links in production while PUBLIC_URL is unset (the links
 * would point at this machine's localhost); null when it may run. Pure.
 */
export function missingPublicUrl(config: Pick<Config, 'env' | 'publicUrl' | 'publicUrlSet'>): string | null {
  if (config.env !== 'production' || config.publicUrlSet) return null;
  return `PUBLIC_URL: required in production (links in mail would point at ${config.publicUrl}); set the address readers open, e.g. https://recap.example.com`;
}

/**
 * The one line that refuses to serve the editor in production without EDITOR_TOKEN (a token made at each
 * start lives in a log, and a proxy makes every visitor look local); null when it may. Pure.
 */
export function missingEditorToken(config: Pick<Config, 'env' | 'http'>): string | null {
  if (config.env !== 'production' || config.http.editorToken !== undefined) return null;
  return 'EDITOR_TOKEN: required in production, where the editor is served to whoever reaches this server; set 24+ random characters, e.g. from `openssl rand -base64 24`';
}

/** A comma-separated setting's entries, trimmed; ConfigError naming the variable and the first bad entry. */
function commaList(
  name: string,
  value: string | undefined,
  valid: (entry: string) => boolean,
  what: string,
): string[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.find((entry) => !valid(entry));
  if (bad !== undefined) {
    throw new ConfigError(
      `invalid configuration:\n  ${name}: expected comma-separated ${what} (got "${maskValue(name, bad)}")`,
    );
  }
  return entries;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** A JSON object of source name (or host) to authority 0..1; ConfigError naming the variable otherwise. */
function readAuthorityFile(file: string): Record<string, number> {
  const fail = (why: string): never => {
    throw new ConfigError(`invalid configuration:\n  RECAP_SOURCE_AUTHORITY_FILE: ${why} (got "${file}")`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(`expected a readable JSON file: ${error instanceof Error ? error.message : String(error)}`);
  }
  const table = z.record(z.string(), z.number().min(0).max(1)).safeParse(parsed);
  if (!table.success) return fail('expected a JSON object of source name to a number from 0 to 1');
  return table.data;
}

/** One line per weak secret, naming the variable, never the value. */
function refuseWeakSecrets(current: string, previous: readonly string[]): void {
  const lines: string[] = [];
  const weak = describeWeakSecret(current);
  if (weak)
    lines.push(
      `RECAP_SECRET: refused in production: ${weak}; set 32+ random characters, e.g. from \`openssl rand -base64 32\``,
    );
  previous.forEach((secret, index) => {
    const reason = describeWeakSecret(secret);
    if (reason)
      lines.push(
        `RECAP_PREVIOUS_SECRETS: entry ${index + 1} refused in production: ${reason}; remove it (links signed with it stop working)`,
      );
  });
  if (lines.length > 0) throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

const secretVariables = new Set(['RECAP_SECRET', 'RECAP_PREVIOUS_SECRETS', 'EDITOR_TOKEN']);

/**
 * What a configuration error may echo of a value: secrets become "***", and the user-info of anything
 * URL-like (`scheme://user:password@host`) becomes "***@", even when the URL itself does not parse.
 */
export function maskValue(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (secretVariables.has(name) || /SECRET|TOKEN|PASSWORD|KEY$/.test(name)) return '***';
  return maskUserinfo(value);
}

/** One EDITOR_HOSTS entry as a Host header carries it: `name` or `name:port`, lower-cased; null when malformed. */
function parseHostEntry(entry: string): string | null {
  const value = entry.trim().toLowerCase();
  if (!/^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$/.test(value)) return null;
  return value;
}

function parseTrustProxy(value: string | undefined): boolean | number | string[] | undefined {
  if (value === undefined || value === 'false') return undefined;
  if (value === 'true') return true;
  if (/^[0-9]+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * Whether LOG_LEVEL=debug (environment, then `.env`) asks for stack traces: read alone, because the
 * error that may print one can be the configuration's own.
 */
export function stackTracesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const level = env.LOG_LEVEL ?? readDotenv('.env').LOG_LEVEL;
  return level?.trim() === 'debug';
}

function readDotenv(file: string): Record<string, string> {
  return existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
}

/** The demo's zero-setup secret: made once, kept beside the embedded database so tokens survive restarts. */
function generatedSecret(dataDir: string): string {
  const file = path.join(dataDir, 'recap-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
