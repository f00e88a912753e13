export interface LinkCheck {
  url: string;
  ok: boolean;
  /** HTTP status when the server answered. */
  status: number | null;
  /** Why it failed, or a note (e.g. "mailto: not fetched"). */
  note: string | null;
}

export interface LinkCheckOptions {
  timeoutMs?: number;
  concurrency?: number;
  fetch?: typeof fetch;
}

/**
 * Checks every link: it must be http(s) (mailto: is accepted unfetched) and answer with a status below
 * 400, asked with HEAD and, where HEAD is refused, with GET. Each request has a timeout; redirects are
 * followed. Never throws: each link gets its own result, in the order given.
 */
export async function checkLinks(
  urls: readonly string[],
  options: LinkCheckOptions = {},
): Promise<LinkCheck[]> {
  const timeoutMs = options.timeoutMs ?? 8000;
  const doFetch = options.fetch ?? fetch;
  const results: LinkCheck[] = new Array(urls.length);
  let next = 0;
  const worker = async () => {
    while (next < urls.length) {
      const index = next++;
      results[index] = await checkOne(urls[index] as string, timeoutMs, doFetch);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, urls.length) }, worker));
  return results;
}

async function checkOne(url: string, timeoutMs: number, doFetch: typeof fetch): Promise<LinkCheck> {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return { url, ok: false, status: null, note: 'not a valid URL' };
  }
  if (protocol === 'mailto:') return { url, ok: true, status: null, note: 'mailto: not fetched' };
  if (protocol !== 'http:' && protocol !== 'https:')
    return { url, ok: false, status: null, note: `${protocol} is not http(s)` };
  try {
    let response = await request(url, 'HEAD', timeoutMs, doFetch);
    if ([403, 405, 501].includes(response.status)) response = await request(url, 'GET', timeoutMs, doFetch);
    const ok = response.status < 400;
    return { url, ok, status: response.status, note: ok ? null : `answered ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return {
      url,
      ok: false,
      status: null,
      note: timedOut ? `no answer within ${timeoutMs / 1000} s` : `unreachable${cause}`,
    };
  }
}

async function request(
  url: string,
  method: 'HEAD' | 'GET',
  timeoutMs: number,
  doFetch: typeof fetch,
): Promise<Response> {
  const response = await doFetch(url, {
    method,
    redirect: 'follow',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { 'user-agent': 'WeeklyAIRecap-LinkCheck/1.0' },
  });
  // Only the status matters; drop the body so the connection is released.
  await response.body?.cancel().catch(() => {});
  return response;
}
