import { Cron, CronPattern } from 'croner';
import { ErrorNames, SnapflowError } from './errors';
import { timeZoneProblem, WallClock } from './wall-clock';

const MONTH_NAMES = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const DAY_NAMES = 'SUN|MON|TUE|WED|THU|FRI|SAT';

// The grammar both croner and EventBridge Scheduler read alike: numbers, names, `*`, lists, ranges
// and steps. Croner's extensions (L, W, #, ?, @nicknames) are refused, since EventBridge reads some
// of them differently or not at all.
const FIELDS = [
  { name: 'minute', allowed: /^[0-9*,/-]+$/, hint: 'digits, *, "," "-" and "/"' },
  { name: 'hour', allowed: /^[0-9*,/-]+$/, hint: 'digits, *, "," "-" and "/"' },
  { name: 'day of month', allowed: /^[0-9*,/-]+$/, hint: 'digits, *, "," "-" and "/"' },
  {
    name: 'month',
    allowed: new RegExp(`^(?:[0-9*,/-]|${MONTH_NAMES})+$`, 'i'),
    hint: 'digits, JAN–DEC, *, "," "-" and "/"',
  },
  {
    name: 'day of week',
    allowed: new RegExp(`^(?:[0-9*,/-]|${DAY_NAMES})+$`, 'i'),
    hint: 'digits (0 or 7 is Sunday), SUN–SAT, *, "," "-" and "/"',
  },
] as const;

/** Far enough back that every valid expression has a run after it, fixed so validation is pure. */
const REFERENCE_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;

/**
 * Why `expression` is not an accepted 5-field cron expression (minute hour day-of-month month
 * day-of-week), or undefined when it is. Beyond syntax it refuses expressions that restrict both
 * day of month and day of week (cron runs on either, which EventBridge Scheduler cannot express)
 * and expressions that match no date (30 February).
 */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim() === '' ? [] : expression.trim().split(/\s+/);
  if (fields.length !== 5)
    return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}; give five: minute hour day-of-month month day-of-week`;
  for (const [index, field] of fields.entries()) {
    const rule = FIELDS[index];
    if (rule !== undefined && !rule.allowed.test(field))
      return `the ${rule.name} field ${JSON.stringify(field)} may hold only ${rule.hint}`;
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, { mode: '5-part', timezone: 'UTC' });
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^CronPattern: /, '');
  }
  if (fields[2] !== '*' && fields[4] !== '*')
    return 'it restricts both day of month and day of week, and cron runs on either one, which EventBridge Scheduler cannot express; put * in one of them';
  if (cron.nextRun(new Date(REFERENCE_MS)) === null) return 'it matches no date';
  return undefined;
}

/**
 * A validated 5-field cron expression in an IANA time zone: when it runs next and how EventBridge
 * Scheduler spells it. Local mode and AWS run the same schedules, so daylight saving time follows
 * EventBridge Scheduler's documented rule: a local time that does not exist (spring forward) is
 * skipped, and a local time that occurs twice (fall back) runs once, at its first occurrence.
 */
export class CronSchedule {
  private readonly cron: Cron;
  private readonly wallClock: WallClock;

  private constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    this.cron = new Cron(expression, { mode: '5-part', timezone: timeZone });
    this.wallClock = new WallClock(timeZone);
  }

  /**
   * Checks and compiles a schedule.
   * @param field Dotted path of the schedule object in the caller's input, for error messages.
   * @throws SnapflowError ValidationError naming `<field>.cron` or `<field>.timeZone`.
   */
  static parse(expression: string, timeZone: string, field = 'schedule'): CronSchedule {
    const cronIssue = cronProblem(expression);
    if (cronIssue !== undefined)
      throw new SnapflowError(
        ErrorNames.Validation,
        `${field}.cron ${JSON.stringify(expression)} is not a valid 5-field cron expression: ${cronIssue}`,
        {
          field: `${field}.cron`,
          action:
            'Give five fields, minute hour day-of-month month day-of-week, e.g. "30 2 * * *" for 02:30 every day.',
        },
      );
    const zoneIssue = timeZoneProblem(timeZone);
    if (zoneIssue !== undefined)
      throw new SnapflowError(ErrorNames.Validation, `${field}.timeZone ${JSON.stringify(timeZone)} ${zoneIssue}`, {
        field: `${field}.timeZone`,
        action: 'Give an IANA time zone name such as Europe/Berlin, America/New_York or UTC.',
      });
    return new CronSchedule(expression.trim(), timeZone);
  }

  /** The first run strictly after `after`, or null when there is none. */
  nextRunAfter(after: Date): Date | null {
    let candidate = this.cron.nextRun(after);
    // Croner moves a fixed-time run out of a spring-forward gap and runs interval jobs on both
    // passes of a fall-back hour; both differ from EventBridge Scheduler, so skip those runs.
    while (candidate !== null && (!this.cron.match(candidate) || this.isSecondOccurrence(candidate.getTime()))) {
      candidate = this.cron.nextRun(candidate);
    }
    return candidate;
  }

  /**
   * The EventBridge Scheduler expression with the same runs, for `ScheduleExpression` together
   * with `ScheduleExpressionTimezone` = {@link timeZone}. Fields are rebuilt from the parsed values,
   * so ranges, steps and names mean exactly what they mean here; day of week is renumbered (1 is
   * Sunday there) and the unrestricted one of day of month and day of week becomes `?`.
   */
  eventBridgeExpression(): string {
    const pattern = new CronPattern(this.expression, undefined, { mode: '5-part' });
    const fields = this.expression.split(/\s+/);
    const minute = compress(pattern.minute, 0);
    const hour = compress(pattern.hour, 0);
    const month = compress(pattern.month, 1);
    if (fields[4] === '*') return `cron(${minute} ${hour} ${compress(pattern.day, 1)} ${month} ? *)`;
    // EventBridge allows no step in day of week, so that field is always written as values.
    return `cron(${minute} ${hour} ? ${month} ${compress(pattern.dayOfWeek, 1, false)} *)`;
  }

  private isSecondOccurrence(epochMs: number): boolean {
    const offset = this.wallClock.at(epochMs).offsetMinutes;
    const earlierOffset = this.wallClock.at(epochMs - DAY_MS).offsetMinutes;
    if (earlierOffset <= offset) return false;
    // The same wall-clock time under the earlier (larger) offset came first if that offset was
    // still in force then.
    const firstPass = epochMs - (earlierOffset - offset) * 60_000;
    return this.wallClock.at(firstPass).offsetMinutes === earlierOffset;
  }
}

/**
 * The time of a run as EventBridge Scheduler writes `<aws.scheduler.scheduled-time>`
 * (`2022-03-22T18:59:43Z`), so a run's trigger id is spelled the same in local mode and on AWS.
 */
export function formatScheduledTime(dueAt: Date): string {
  return `${dueAt.toISOString().slice(0, 19)}Z`;
}

/**
 * One cron field from croner's parsed flags (index 0 = the field's lowest value): `*` when every
 * value is set, `start/step` for a step that runs to the end of the range (if `steps`), else runs
 * and values.
 */
function compress(flags: readonly number[], lowest: number, steps = true): string {
  const values = flags.flatMap((flag, index) => (flag === 0 ? [] : [index + lowest]));
  if (values.length === flags.length) return '*';
  const [first = lowest, second = lowest] = values;
  const step = second - first;
  const last = values[values.length - 1] ?? lowest;
  const highest = flags.length - 1 + lowest;
  const evenlySpaced = values.every((value, index) => value === first + index * step);
  if (steps && values.length >= 3 && step > 1 && evenlySpaced && last + step > highest) return `${first}/${step}`;
  const runs: string[] = [];
  let start = first;
  for (const [index, value] of values.entries()) {
    const next = values[index + 1];
    if (next === value + 1) continue;
    runs.push(start === value ? `${value}` : `${start}-${value}`);
    if (next !== undefined) start = next;
  }
  return runs.join(',');
}
