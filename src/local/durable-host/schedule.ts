/**
 * Timer-trigger schedules as the Functions host reads them: a six-field NCRONTAB expression
 * ("{second} {minute} {hour} {day} {month} {day-of-week}", evaluated in UTC) or a TimeSpan interval
 * ("hh:mm:ss"), optionally given as an app setting reference "%NAME%".
 */
import { CronExpressionParser } from 'cron-parser';
import { parseTimeSpan } from './timespan.js';

export interface Schedule {
  readonly expression: string;
  /** First occurrence strictly after `afterMs`. */
  next(afterMs: number): number;
}

export function resolveAppSettingReference(value: string, env: NodeJS.ProcessEnv, field: string): string {
  return value.replace(/%([^%]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') {
      throw new Error(
        `${field}: app setting "${name}" referenced as %${name}% is not set; add it to the host's env.`,
      );
    }
    return v;
  });
}

export function parseSchedule(raw: string, field = 'schedule'): Schedule {
  const expression = raw.trim();
  if (/^\d+(\.\d+)?:\d{2}:\d{2}$/.test(expression) || /^\d+\.\d{2}:\d{2}:\d{2}$/.test(expression)) {
    const interval = parseTimeSpan(expression, field);
    if (interval <= 0) throw new Error(`${field}: interval "${expression}" must be positive.`);
    return { expression, next: (after) => after + interval };
  }
  const fields = expression.split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(
      `${field}: "${expression}" has ${fields.length} fields; NCRONTAB needs six ("{second} {minute} {hour} {day} {month} {day-of-week}", e.g. "0 0 3 1 * *").`,
    );
  }
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
  } catch (err) {
    throw new Error(
      `${field}: "${expression}" is not a valid NCRONTAB expression: ${(err as Error).message}`,
    );
  }
  return {
    expression,
    next(after) {
      const it = CronExpressionParser.parse(expression, { currentDate: new Date(after), tz: 'UTC' });
      return it.next().getTime();
    },
  };
}
