import { createHash } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Mailer } from '../mail/mailer.ts';
import { escapeHtml } from '../render/html-escape.ts';
import { claimAlert, recordAlertDelivery } from './alert.repository.ts';

export type AlertKind =
  | 'send-paused'
  | 'send-finished'
  | 'approval-missing'
  | 'empty-segments'
  | 'source-failing'
  | 'relay-unreachable';

/** What raising an alert reads: ALERT_EMAIL/ALERT_WEBHOOK_URL, the sender and PUBLIC_URL. */
export type AlertSettings = Pick<Config, 'alerts' | 'sender' | 'publicUrl'>;

/** What raising an alert needs: the database (once per cause), the settings, the mailer of ALERT_EMAIL. */
export interface AlertContext {
  db: Db;
  config: AlertSettings;
  /** Carries the alert email (the caller's, never closed here). */
  mailer: Mailer;
  /** Where failures of the alert channels are written; default standard error. */
  log?: (line: string) => void;
  /** For tests: the clock stamped on the alert. */
  now?: () => Date;
  webhook?: { timeoutMs?: number; attempts?: number; backoffMs?: number };
}

export interface Alert {
  kind: AlertKind;
  /** What makes this alert distinct: the same kind and cause is sent once, ever. */
  cause: string;
  /** One line: the email subject and the webhook's `text` first line. */
  subject: string;
  /** Plain lines of detail, for the email and the webhook's `text`. */
  lines: string[];
  /** Structured detail for the webhook's JSON body. */
  details: Record<string, unknown>;
}

/** True when ALERT_EMAIL or ALERT_WEBHOOK_URL is set. */
export function alertsEnabled(config: Pick<Config, 'alerts'>): boolean {
  return config.alerts.emails.length > 0 || config.alerts.webhookUrl !== undefined;
}

/**
 * Sends an alert once per cause to every configured channel (ALERT_WEBHOOK_URL, ALERT_EMAIL). The
 * first caller to record the cause in PostgreSQL sends; every other call, in any process, does nothing.
 * Never throws: a failing channel (or database) is logged and recorded, so an alert never breaks a send.
 * Returns whether this call sent it.
 */
export async function raiseAlert(context: AlertContext, alert: Alert): Promise<boolean> {
  const { config } = context;
  const log = context.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!alertsEnabled(config)) return false;
  const at = (context.now ?? (() => new Date()))();
  const text = [alert.subject, ...alert.lines].join('\n');
  const payload = { kind: alert.kind, subject: alert.subject, text, at: at.toISOString(), ...alert.details };
  const key = { kind: alert.kind, cause: causeKey(alert.cause) };
  try {
    const won = await claimAlert(context.db, { ...key, subject: alert.subject, payload });
    if (!won) return false;
  } catch (error) {
    log(`alert ${alert.kind} not sent: cannot record it: ${messageOf(error)}`);
    return false;
  }
  const errors: string[] = [];
  if (config.alerts.webhookUrl) {
    const error = await postWebhook(config.alerts.webhookUrl, payload, context.webhook);
    if (error) errors.push(`webhook: ${error}`);
  }
  if (config.alerts.emails.length > 0) {
    const error = await emailAlert(context, alert, at);
    if (error) errors.push(`email: ${error}`);
  }
  const error = errors.length > 0 ? errors.join('; ') : null;
  if (error) log(`alert ${alert.kind} (${alert.subject}): ${error}`);
  await recordAlertDelivery(context.db, key, error).catch((failure) =>
    log(`alert ${alert.kind}: cannot record its delivery: ${messageOf(failure)}`),
  );
  return true;
}

/** Long causes (a pause reason) are stored as a digest so the key stays short and indexable. */
function causeKey(cause: string): string {
  return cause.length <= 200
    ? cause
    : `${cause.slice(0, 120)}…${createHash('sha256').update(cause).digest('hex')}`;
}

/**
 * POSTs the JSON payload with a timeout per attempt; retries network errors, 429 and 5xx a bounded
 * number of times. Returns an error message, or null when the receiver answered 2xx.
 */
async function postWebhook(
  url: string,
  payload: Record<string, unknown>,
  options: AlertContext['webhook'] = {},
): Promise<string | null> {
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 5000;
  const backoffMs = options.backoffMs ?? 1000;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'weekly-ai-recap-alerts' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return null;
      last = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) return last;
    } catch (error) {
      last = messageOf(error);
    }
    if (attempt < attempts) await sleepFor(backoffMs * attempt);
  }
  return `${last} after ${attempts} attempts`;
}

async function emailAlert(context: AlertContext, alert: Alert, at: Date): Promise<string | null> {
  const { config, mailer } = context;
  try {
    const domain = config.sender.email.split('@')[1] ?? 'localhost';
    const digest = createHash('sha256').update(`${alert.kind}\n${alert.cause}`).digest('hex').slice(0, 16);
    const text = `${alert.subject}\n\n${alert.lines.join('\n')}\n\n${at.toISOString()} · ${config.publicUrl}\n`;
    const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;font-size:15px;line-height:22px">
<p><strong>${escapeHtml(alert.subject)}</strong></p>
${alert.lines.map((line) => `<p style="margin:0 0 6px">${escapeHtml(line)}</p>`).join('\n')}
<p style="color:#666;font-size:13px">${escapeHtml(at.toISOString())} · ${escapeHtml(config.publicUrl)}</p>
</body></html>`;
    const failures: string[] = [];
    for (const to of config.alerts.emails) {
      const result = await mailer.send({
        from: `"${config.sender.name.replace(/["\\]/g, '')} alerts" <${config.sender.email}>`,
        to,
        subject: `[recap] ${alert.subject}`,
        html,
        text,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Recap-Alert': alert.kind },
        messageId: `<recap-alert.${alert.kind}.${digest}.${to.replace(/[^A-Za-z0-9.-]/g, '_')}@${domain}>`,
      });
      if (!result.ok) failures.push(`${to}: ${result.message}`);
    }
    return failures.length > 0 ? failures.join('; ') : null;
  } catch (error) {
    return messageOf(error);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
