import cron from 'node-cron';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * How often the schedule (RECAP_CRON) sends, in words a sign-up page can show: "every Monday", "every
 * Monday and Thursday", "every day", or null when the expression fires on days of the month (or is
 * invalid) and no weekly rhythm can be named. Pure; never throws.
 */
export function describeCadence(expression: string): string | null {
  if (!cron.validate(expression)) return null;
  const fields = cron.parse(expression);
  if (fields.dayOfMonth.length < 31 || fields.month.length < 12) return null;
  // node-cron lists Sunday as 0 (and 7 folds into it).
  const days = [...new Set(fields.dayOfWeek.map((day) => Number(day) % 7))].sort(
    (a, b) => ((a + 6) % 7) - ((b + 6) % 7),
  );
  if (days.length === 7) return 'every day';
  const names = days.map((day) => DAYS[day] ?? '');
  if (names.length === 0) return null;
  const last = names.pop();
  return names.length === 0 ? `every ${last}` : `every ${names.join(', ')} and ${last}`;
}
