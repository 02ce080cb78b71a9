import { CronExpressionParser } from "cron-parser";

/**
 * Seconds between the first two ticks of a cron schedule (UTC) after `at`: a rotation's period, for
 * the overdue alert and the interval gauge. Null when the schedule has no two ticks to come. For a
 * schedule with uneven gaps (weekdays only) it is the gap that follows `at`.
 */
export function rotationPeriodSeconds(cron: string, at: Date): number | null {
  try {
    const [first, second] = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: at }).take(2);
    return first && second ? (second.getTime() - first.getTime()) / 1000 : null;
  } catch {
    return null;
  }
}
