import { resolveMx } from 'node:dns/promises';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/** The MX records of a domain, as node:dns answers them; rejects when the domain has none or does not resolve. */
export type MxLookup = (domain: string) => Promise<Array<{ exchange: string; priority: number }>>;

export interface MxResolutionOptions {
  /** Longest the whole resolution may take; domains not resolved by then are paced as themselves. Default 20 s. */
  budgetMs?: number;
  /** Lookups in flight at once; default 16. */
  concurrency?: number;
  /** Longest one lookup may take; default 3 s. */
  lookupTimeoutMs?: number;
}

/** The system's resolver (what `recap worker` uses unless a test or the composition root gives another). */
export const systemMxLookup: MxLookup = (domain) => resolveMx(domain);

/**
 * The provider key (`mx:<suffix>`) of an MX host under the configured suffixes: the longest suffix that
 * is the host or a parent of it (`aspmx.l.google.com` is under `google.com`). Pure.
 */
export function providerKeyOf(mxHost: string, suffixes: readonly string[]): string | undefined {
  const host = mxHost.toLowerCase().replace(/\.$/, '');
  let best: string | undefined;
  for (const suffix of suffixes) {
    if ((host === suffix || host.endsWith(`.${suffix}`)) && (!best || suffix.length > best.length))
      best = suffix;
  }
  return best ? `mx:${best}` : undefined;
}

/** The preferred (lowest priority, then first by name) MX host of a domain, lower-cased; the domain itself when it has none. */
export function preferredMxHost(
  domain: string,
  records: ReadonlyArray<{ exchange: string; priority: number }>,
) {
  const usable = records
    .filter((r) => r.exchange && r.exchange !== '.')
    .map((r) => ({ host: r.exchange.toLowerCase().replace(/\.$/, ''), priority: r.priority }))
    .sort((a, b) => a.priority - b.priority || a.host.localeCompare(b.host));
  return usable[0]?.host ?? domain;
}

/**
 * The recipient domains of a send mapped to the provider key they are paced by, for the domains whose
 * MX host falls under one of `suffixes` (the mx: keys of SEND_DOMAIN_LIMITS). The MX hosts are resolved
 * once per send, by the first worker that gets here, and stored in send_mx_hosts; every other worker (in
 * any process) waits for that and reads the same mapping, so all pace by the same keys. Resolution is
 * bounded in time and concurrency; a domain that does not resolve in time, or has no MX, stands for
 * itself. Throws only when the database fails.
 */
export async function sendProviderKeys(
  db: Db,
  issueId: number,
  suffixes: readonly string[],
  lookup: MxLookup,
  options: MxResolutionOptions = {},
): Promise<Map<string, string>> {
  const budgetMs = options.budgetMs ?? 20_000;
  const waitMs = budgetMs + 10_000;
  // The first worker claims the resolution; a claim older than any resolution can take (its worker died
  // resolving) is taken over, and what it stored is kept.
  const { rows: won } = await sql<{ issue_id: number }>`
    INSERT INTO send_mx_resolutions AS r (issue_id) VALUES (${issueId})
    ON CONFLICT (issue_id) DO UPDATE SET started_at = now()
      WHERE r.finished_at IS NULL AND r.started_at < now() - make_interval(secs => ${waitMs / 1000})
    RETURNING issue_id
  `.execute(db);
  if (won.length > 0) await resolveAndStore(db, issueId, lookup, { ...options, budgetMs });
  else await untilResolved(db, issueId, waitMs);
  const { rows } = await sql<{ domain: string; mx_host: string }>`
    SELECT domain, mx_host FROM send_mx_hosts WHERE issue_id = ${issueId}
  `.execute(db);
  const keys = new Map<string, string>();
  for (const row of rows) {
    const key = providerKeyOf(row.mx_host, suffixes);
    if (key) keys.set(row.domain, key);
  }
  return keys;
}

/** The mapping another worker is storing: waits for it, at most `maxMs` (then paces by what is stored so far). */
async function untilResolved(db: Db, issueId: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const { rows } = await sql<{ finished: boolean }>`
      SELECT finished_at IS NOT NULL AS finished FROM send_mx_resolutions WHERE issue_id = ${issueId}
    `.execute(db);
    if (rows[0]?.finished !== false) return;
    await sleepFor(100);
  }
}

async function resolveAndStore(
  db: Db,
  issueId: number,
  lookup: MxLookup,
  options: MxResolutionOptions & { budgetMs: number },
): Promise<void> {
  const { rows } = await sql<{ domain: string }>`
    SELECT DISTINCT lower(split_part(s.email, '@', 2)) AS domain
    FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
    WHERE d.issue_id = ${issueId} AND d.status = 'queued'
  `.execute(db);
  const domains = rows.map((r) => r.domain).filter(Boolean);
  const hosts = await resolveAll(domains, lookup, options);
  for (let i = 0; i < domains.length; i += 1000) {
    const chunk = domains.slice(i, i + 1000);
    await sql`
      INSERT INTO send_mx_hosts (issue_id, domain, mx_host)
      SELECT ${issueId}, v.domain, v.mx_host
      FROM unnest(${chunk}::text[], ${chunk.map((d) => hosts.get(d) ?? d)}::text[]) AS v(domain, mx_host)
      ON CONFLICT (issue_id, domain) DO NOTHING
    `.execute(db);
  }
  await sql`
    UPDATE send_mx_resolutions SET finished_at = now(), domains = ${domains.length}, resolved = ${hosts.size}
    WHERE issue_id = ${issueId}
  `.execute(db);
}

/** MX hosts of `domains`, `concurrency` lookups at a time, within the budget; what did not resolve is left out. */
async function resolveAll(
  domains: readonly string[],
  lookup: MxLookup,
  options: MxResolutionOptions & { budgetMs: number },
): Promise<Map<string, string>> {
  const hosts = new Map<string, string>();
  const deadline = Date.now() + options.budgetMs;
  const lookupTimeout = options.lookupTimeoutMs ?? 3000;
  let next = 0;
  const worker = async () => {
    while (next < domains.length && Date.now() < deadline) {
      const domain = domains[next++] as string;
      const wait = Math.max(1, Math.min(lookupTimeout, deadline - Date.now()));
      const records = await Promise.race([
        lookup(domain).catch(() => null),
        sleepFor(wait, null, { ref: false }),
      ]);
      if (records && records.length > 0) hosts.set(domain, preferredMxHost(domain, records));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 16) }, worker));
  return hosts;
}
