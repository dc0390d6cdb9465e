// Duration flags: `90s`, `5m`, `1h30m`, `500ms`. Pure.
import parse from 'parse-duration';
import { UsageError } from '../core/errors.js';

/**
 * Parses a duration with a unit (`ms`, `s`, `m`, `h`, `d`, combinable: `1h30m`) into ms.
 * Throws UsageError naming the flag for a bare number, a negative value or anything unparsable.
 */
export function parseDurationMs(flag: string, value: string): number {
  const v = value.trim();
  const ms = /^(\d+(\.\d+)?[a-zµμ]+)+$/i.test(v) ? parse(v) : null;
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new UsageError(
      `--${flag} ${JSON.stringify(value)} is not a duration: write it with a unit, e.g. 90s, 5m or 1h30m`,
    );
  }
  return ms;
}

/** `ms` when it is more than 0; else UsageError naming `--flag`. */
export function positive(flag: string, ms: number): number {
  if (ms <= 0) throw new UsageError(`--${flag} must be more than 0`);
  return ms;
}
