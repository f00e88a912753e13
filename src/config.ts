import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';

/** Thrown when the environment does not describe a usable configuration; the message names each variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

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

/** `gmail.com=20,yahoo.com=10`: messages per second per recipient domain. */
const domainLimits = optionalString
  .refine(
    (value) =>
      value === undefined ||
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
        .every(
          (part) => /^[a-z0-9.-]+\.[a-z0-9-]+=\d+(\.\d+)?$/i.test(part) && Number(part.split('=')[1]) > 0,
        ),
    { message: 'expected domain=messages per second pairs, such as gmail.com=20,yahoo.com=10' },
  )
  .transform((value) => {
    const limits: Record<string, number> = {};
    for (const part of (value ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const [domain, rate] = part.split('=') as [string, string];
      limits[domain.toLowerCase()] = Number(rate);
    }
    return limits;
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'a postgres:// URL'),
  RECAP_DATA_DIR: z.string().default('./data'),
  SMTP_URL: url(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL'),
  SMTP_MAX_CONNECTIONS: positiveInt(5),
  SEND_RATE: z.coerce.number({ error: 'expected messages per second' }).nonnegative().default(0),
  SEND_BATCH_SIZE: positiveInt(500),
  SEND_MAX_CONSECUTIVE_FAILURES: positiveInt(50),
  SEND_DOMAIN_LIMITS: domainLimits,
  SEND_MAX_BOUNCE_RATE: percentage('5%'),
  SEND_MAX_COMPLAINT_RATE: percentage('0.3%'),
  RECAP_DELIVERY: z.enum(['now', 'local'], { error: 'expected now or local' }).default('now'),
  RECAP_LOCAL_TIME: clockTime('08:00'),
  RECAP_OUTBOX_DIR: z.string().default('./outbox'),
  PUBLIC_URL: url(['http:', 'https:'], 'an http(s):// URL').default('http://localhost:3000'),
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
  HOST: z.string().default('127.0.0.1'),
  TRUST_PROXY: optionalString,
  EDITOR_TOKEN: optionalString,
  REQUIRE_APPROVAL: z.enum(['true', 'false', '']).optional(),
  TRACKING_ENABLED: booleanFlag(true),
  TRACKING_ACK_AFTER_WRITE: booleanFlag(false),
  STORIES_PER_SEGMENT: positiveInt(7),
  MIN_STORIES_PER_SEGMENT: positiveInt(3),
  RECAP_SOURCE_AUTHORITY_FILE: optionalString,
  TEST_RECIPIENTS: optionalString,
  BOUNCE_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SOFT_BOUNCE_LIMIT: positiveInt(3),
  BOUNCE_DOMAIN: optionalString,
  DKIM_DOMAIN: optionalString,
  DKIM_SELECTOR: optionalString,
  DKIM_PRIVATE_KEY_FILE: optionalString,
});

/** Every environment variable the configuration reads (each is documented in .env.example). */
export const configVariables: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  env: 'development' | 'production' | 'test';
  databaseUrl: string | undefined;
  dataDir: string;
  smtp: { url: string | undefined; maxConnections: number; sendRate: number };
  send: {
    batchSize: number;
    maxConsecutiveFailures: number;
    /** Messages per second per recipient domain, across all workers; other domains are not limited. */
    domainLimits: Record<string, number>;
    /** Hard bounces / attempts above which a send pauses itself (after at least 500 attempts). */
    maxBounceRate: number;
    /** Complaints / attempts above which a send pauses itself (after at least 500 attempts). */
    maxComplaintRate: number;
    /** 'now': everyone at once; 'local': each subscriber at `localTime` in their own time zone. */
    delivery: 'now' | 'local';
    /** HH:MM, for local-time delivery. */
    localTime: string;
  };
  outboxDir: string;
  publicUrl: string;
  secrets: { current: string; previous: string[] };
  sender: { name: string; email: string; postalAddress: string; bounceDomain: string };
  timeZone: string;
  cron: string;
  http: { port: number; host: string; editorToken: string | undefined };
  /**
   * Reverse proxies whose X-Forwarded-For is believed (client IP for rate limits and the consent log):
   * true, a hop count, or addresses/CIDRs. Undefined: the socket's address.
   */
  trustProxy: boolean | number | string[] | undefined;
  requireApproval: boolean;
  trackingEnabled: boolean;
  /** Answer a pixel or click only once its event is in PostgreSQL (else queued, flushed within ms and on shutdown). */
  trackingAckAfterWrite: boolean;
  selection: {
    storiesPerSegment: number;
    minStoriesPerSegment: number;
    /** Source authority entries (source name or host -> 0..1) replacing the defaults; undefined keeps them. */
    authority: Record<string, number> | undefined;
  };
  testRecipients: string[];
  bounceSmtpPort: number | undefined;
  /** Consecutive issues that soft-bounce before an address is suppressed. */
  softBounceLimit: number;
  dkim: { domain: string; selector: string; privateKeyFile: string } | undefined;
}

/**
 * Reads the environment (and `.env` in the working directory when present) once, validates it and
 * returns a frozen Config. Throws ConfigError naming every bad variable and what it expected.
 * Without RECAP_SECRET outside production, a secret is generated once and kept in the data directory.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { dotenvPath?: string } = {},
): Config {
  const merged = { ...readDotenv(options.dotenvPath ?? '.env'), ...env };
  const parsed = envSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const got = merged[name] === undefined ? '' : ` (got ${JSON.stringify(merged[name])})`;
      return `${name}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
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
  const dataDir = path.resolve(e.RECAP_DATA_DIR);
  const testRecipients = (e.TEST_RECIPIENTS ?? '')
    .split(',')
    .map((address) => address.trim().toLowerCase())
    .filter(Boolean);
  for (const address of testRecipients) {
    if (!z.email().safeParse(address).success) {
      throw new ConfigError(
        `invalid configuration:\n  TEST_RECIPIENTS: expected comma-separated email addresses (got "${address}")`,
      );
    }
  }
  const config: Config = {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    smtp: { url: e.SMTP_URL, maxConnections: e.SMTP_MAX_CONNECTIONS, sendRate: e.SEND_RATE },
    send: {
      batchSize: e.SEND_BATCH_SIZE,
      maxConsecutiveFailures: e.SEND_MAX_CONSECUTIVE_FAILURES,
      domainLimits: e.SEND_DOMAIN_LIMITS,
      maxBounceRate: e.SEND_MAX_BOUNCE_RATE,
      maxComplaintRate: e.SEND_MAX_COMPLAINT_RATE,
      delivery: e.RECAP_DELIVERY,
      localTime: e.RECAP_LOCAL_TIME,
    },
    outboxDir: path.resolve(e.RECAP_OUTBOX_DIR),
    publicUrl: e.PUBLIC_URL.replace(/\/+$/, ''),
    secrets: {
      current: e.RECAP_SECRET ?? generatedSecret(dataDir),
      previous: (e.RECAP_PREVIOUS_SECRETS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    sender: {
      name: e.RECAP_FROM_NAME,
      email: e.RECAP_FROM_EMAIL,
      postalAddress: e.RECAP_POSTAL_ADDRESS,
      bounceDomain: e.BOUNCE_DOMAIN ?? e.RECAP_FROM_EMAIL.split('@')[1] ?? 'localhost',
    },
    timeZone: e.RECAP_TZ,
    cron: e.RECAP_CRON,
    http: { port: e.PORT, host: e.HOST, editorToken: e.EDITOR_TOKEN },
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    requireApproval: e.REQUIRE_APPROVAL ? e.REQUIRE_APPROVAL === 'true' : e.NODE_ENV === 'production',
    trackingEnabled: e.TRACKING_ENABLED,
    trackingAckAfterWrite: e.TRACKING_ACK_AFTER_WRITE,
    selection: {
      storiesPerSegment: e.STORIES_PER_SEGMENT,
      minStoriesPerSegment: e.MIN_STORIES_PER_SEGMENT,
      authority: e.RECAP_SOURCE_AUTHORITY_FILE ? readAuthorityFile(e.RECAP_SOURCE_AUTHORITY_FILE) : undefined,
    },
    testRecipients,
    bounceSmtpPort: e.BOUNCE_SMTP_PORT,
    softBounceLimit: e.SOFT_BOUNCE_LIMIT,
    dkim:
      e.DKIM_DOMAIN && e.DKIM_SELECTOR && e.DKIM_PRIVATE_KEY_FILE
        ? { domain: e.DKIM_DOMAIN, selector: e.DKIM_SELECTOR, privateKeyFile: e.DKIM_PRIVATE_KEY_FILE }
        : undefined,
  };
  return Object.freeze(config);
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

function parseTrustProxy(value: string | undefined): boolean | number | string[] | undefined {
  if (value === undefined || value === 'false') return undefined;
  if (value === 'true') return true;
  if (/^[0-9]+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
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
