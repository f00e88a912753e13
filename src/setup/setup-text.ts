import { bounceRouteText, formatRecord, type MailDomainSettings, recordsToPublish } from './dns-records.ts';

/**
 * What `recap init` prints after writing its files: the DNS records to publish, where bounces go, and
 * the next step. The same record text `recap doctor` prints under a failed check. Pure.
 */
export function dnsInstructions(settings: MailDomainSettings): string {
  const records = recordsToPublish(settings);
  const placeholders = records.some((record) => record.placeholder);
  return [
    'Publish these DNS records (zone-file form: a DNS panel takes the name before "3600 IN" and the',
    'value; a split TXT value is one record whose quoted parts are joined without spaces):',
    '',
    ...records.flatMap((record) => [formatRecord(record), '']),
    ...(placeholders ? ['A value in <…> is a placeholder: replace it before publishing.', ''] : []),
    bounceRouteText(settings),
  ].join('\n');
}
