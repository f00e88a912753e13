import type { TextFetcher } from '../webhooks/ses-sns.ts';

/**
 * GETs an https URL and returns its text: at most 64 KB, 10 seconds, no redirects (an SNS certificate
 * or SubscribeURL answers directly; a redirect could lead anywhere). Throws on anything else.
 */
export function createHttpsTextFetcher(): TextFetcher {
  return async (url) => {
    if (!url.startsWith('https://')) throw new Error(`refusing to fetch ${url}: not https`);
    const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const text = await response.text();
    if (text.length > 64 * 1024) throw new Error(`${url} answered more than 64 KB`);
    return text;
  };
}
