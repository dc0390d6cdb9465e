import { describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.js';
import { parseDurationMs } from './duration.js';

describe('parseDurationMs', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['0s', 0],
    ['1.5s', 1_500],
  ])('%s = %d ms', (v, ms) => {
    expect(parseDurationMs('timeout', v)).toBe(ms);
  });

  it.each(['10', '-5s', 'abc', '', '5 minutes please', '1x'])('rejects %j', (v) => {
    expect(() => parseDurationMs('timeout', v)).toThrow(UsageError);
    expect(() => parseDurationMs('timeout', v)).toThrow(/--timeout .* is not a duration/);
  });
});
