const formatters = new Map<string, Intl.DateTimeFormat>();

function parts(date: Date, timeZone: string): { day: number; month: string; year: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short', year: 'numeric' });
    formatters.set(timeZone, format);
  }
  const found: Record<string, string> = {};
  for (const part of format.formatToParts(date)) found[part.type] = part.value;
  return { day: Number(found.day), month: found.month ?? '', year: Number(found.year) };
}

/** "23 Nov 2026" in the given time zone. */
export function formatDay(date: Date, timeZone: string): string {
  const p = parts(date, timeZone);
  return `${p.day} ${p.month} ${p.year}`;
}

/**
 * The week as a reader says it: "17–23 Nov 2026", "27 Oct – 2 Nov 2026", "29 Dec 2025 – 4 Jan 2026".
 * `end` is exclusive (the instant the next week starts).
 */
export function formatWeekRange(start: Date, end: Date, timeZone: string): string {
  const first = parts(start, timeZone);
  const last = parts(new Date(end.getTime() - 1), timeZone);
  if (first.year !== last.year) {
    return `${first.day} ${first.month} ${first.year} – ${last.day} ${last.month} ${last.year}`;
  }
  if (first.month !== last.month)
    return `${first.day} ${first.month} – ${last.day} ${last.month} ${last.year}`;
  return `${first.day}–${last.day} ${last.month} ${last.year}`;
}
