import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { Mailer } from '../mail/mailer.ts';
import { signToken } from '../tracking/token.ts';
import { runSunset, type SunsetResult, type SunsetSettings } from './sunset.ts';

/** What sunsetting reads: SUNSET_*, the sender, PUBLIC_URL and the token secrets of its links. */
export type SunsetConfig = Pick<Config, 'sunset' | 'secrets' | 'publicUrl' | 'sender'>;

/** The sunsetting settings and personal links, from the configuration. */
export function sunsetSettings(config: SunsetConfig): SunsetSettings {
  const { secrets, publicUrl, sender } = config;
  return {
    afterIssues: config.sunset.afterIssues,
    graceDays: config.sunset.graceDays,
    from: `"${sender.name.replace(/["\\\r\n]/g, '')}" <${sender.email}>`,
    messageIdDomain: sender.bounceDomain,
    postalAddress: sender.postalAddress,
    links: (subscriberId) => ({
      keepUrl: `${publicUrl}/keep/${signToken(secrets, { kind: 'keep', subscriberId })}`,
      preferencesUrl: `${publicUrl}/p/${signToken(secrets, { kind: 'preferences', subscriberId })}`,
    }),
  };
}

/** One sunsetting pass with the configured settings (the weekly schedule runs it after each send). */
export async function runSunsetFor(
  deps: { db: Db; config: SunsetConfig },
  mailer: Mailer,
  now: Date = new Date(),
): Promise<SunsetResult> {
  // The MJML templates load only when a pass runs.
  const { loadSystemTemplates } = await import('../render/system-mail.ts');
  return runSunset(deps.db, mailer, await loadSystemTemplates(), sunsetSettings(deps.config), now);
}

export function formatSunsetResult(result: SunsetResult): string {
  return `sunsetting: ${result.asked} asked "still want the recap?"${result.failed > 0 ? ` (${result.failed} not sent, asked again next run)` : ''}, ${result.paused} paused for inactivity, ${result.answered} answered by reading`;
}
