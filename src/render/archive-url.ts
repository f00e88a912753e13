/** The browser copy of an edition: `PUBLIC_URL/archive/<week>/<segment key>` (the key percent-encoded). */
export function editionArchiveUrl(publicUrl: string, week: string, segmentKey: string): string {
  return `${publicUrl}/archive/${encodeURIComponent(week)}/${encodeURIComponent(segmentKey)}`;
}
