import { describe, expect, it } from 'vitest';
import { formatEvents } from './event-lines.js';
import type { KubeEvent } from '../kube/types.js';

describe('formatEvents', () => {
  it('lists Warning events first, newest first, with counts and ages', () => {
    const e = (type: string, reason: string, last: string, count = 1): KubeEvent => ({
      type,
      reason,
      message: `${reason} message`,
      count,
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: last,
    });
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(
      formatEvents(
        [
          e('Normal', 'Scheduled', '2026-01-01T00:00:00Z'),
          e('Warning', 'BackOff', '2026-01-01T00:00:50Z', 5),
          e('Warning', 'Failed', '2026-01-01T00:00:10Z'),
        ],
        now,
      ),
    ).toEqual([
      'Warning  BackOff  5x over 60s  BackOff message',
      'Warning  Failed  50s ago  Failed message',
      'Normal  Scheduled  60s ago  Scheduled message',
    ]);
  });
});
