import { WEEKDAYS, wallClock, type FreezeWindow } from '../config/automation-config.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at `now` in a time zone: weekday, and YYYY-MM-DDTHH:MM:SS (comparable as text). */
function localTime(now: Date, timeZone: string): { weekday: number; text: string; clock: string } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  const weekday = WEEKDAYS.indexOf(
    String(parts['weekday']).toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number],
  );
  const clock = `${parts['hour']}:${parts['minute']}:${parts['second']}`;
  return { weekday, clock, text: `${parts['year']}-${parts['month']}-${parts['day']}T${clock}` };
}

const hasOffset = (t: string): boolean => /(Z|[+-]\d{2}:\d{2})$/.test(t);

function inWindow(w: FreezeWindow, now: Date): boolean {
  if ('weekly' in w) {
    const { weekday, clock } = localTime(now, w.time_zone);
    const from = `${w.weekly.from}:00`;
    const to = w.weekly.to === '24:00' ? '24:00:00' : `${w.weekly.to}:00`;
    const days = w.weekly.days.map((d) => WEEKDAYS.indexOf(d));
    if (to > from) return days.includes(weekday) && clock >= from && clock < to;
    // Overnight: from `from` on a listed day until `to` on the day after.
    return (days.includes(weekday) && clock >= from) || (days.includes((weekday + 6) % 7) && clock < to);
  }
  if (hasOffset(w.start)) return now.getTime() >= Date.parse(w.start) && now.getTime() < Date.parse(w.end);
  const { text } = localTime(now, w.time_zone);
  return text >= wallClock(w.start) && text < wallClock(w.end);
}

function describe(w: FreezeWindow): string {
  if ('weekly' in w) return `${w.weekly.days.join(',')} ${w.weekly.from}–${w.weekly.to} ${w.time_zone}`;
  return hasOffset(w.start) ? `${w.start} – ${w.end}` : `${w.start} – ${w.end} ${w.time_zone}`;
}

/** The first change-freeze window `now` falls in, described, or null. */
export function activeFreeze(
  windows: readonly FreezeWindow[],
  now: Date,
): { reason: string; window: string } | null {
  for (const w of windows) if (inWindow(w, now)) return { reason: w.reason, window: describe(w) };
  return null;
}
