/** What a clock on the wall in some time zone shows at an instant. */
export interface WallTime {
  year: number;
  /** 1–12. */
  month: number;
  /** 1–31. */
  day: number;
  /** 0–23. */
  hour: number;
  minute: number;
  /** Local time minus UTC, in minutes (+60 for CET, +120 for CEST). */
  offsetMinutes: number;
}

/**
 * Why `timeZone` is not usable as an IANA time zone, or undefined when it is. Names are checked
 * with `Intl`, so the zones known are the runtime's ICU data. A UTC offset such as `+01:00` is
 * refused: it has no daylight saving rules, and EventBridge Scheduler accepts only zone names.
 */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (!/^[A-Za-z]/.test(timeZone)) return 'is not an IANA time zone name (e.g. Europe/Berlin or UTC)';
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return 'is not an IANA time zone (e.g. Europe/Berlin or UTC)';
  }
  // Intl ignores case, EventBridge Scheduler does not: insist on the spelling both accept.
  if (resolved !== timeZone && resolved.toLowerCase() === timeZone.toLowerCase())
    return `is not an IANA time zone as spelled; write ${resolved}`;
  return undefined;
}

/** Reads instants as wall-clock times in one time zone. The zone must pass {@link timeZoneProblem}. */
export class WallClock {
  private readonly format: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  /** The wall-clock time at `epochMs` (milliseconds since the epoch). */
  at(epochMs: number): WallTime {
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(epochMs)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
    const wholeSecond = Math.floor(epochMs / 1000) * 1000;
    const offsetMinutes = Math.round((Date.UTC(year, month - 1, day, hour, minute, second) - wholeSecond) / 60_000);
    return { year, month, day, hour, minute, offsetMinutes };
  }
}
