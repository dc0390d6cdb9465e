import { describe, expect, it } from 'vitest';
import type { Job } from '../kube/types.js';
import { anchorJob } from '../manifests/deps.js';
import { heldMessage, otherHolder } from './holder.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const anchor = (holder: string | undefined, untilMs: number, deleting = false): Job => {
  const a = anchorJob('r1', 'ci', 3600, { untilMs, leaseSeconds: 300, holder });
  if (deleting) a.metadata!.deletionTimestamp = new Date(NOW).toISOString();
  return a;
};

describe('otherHolder', () => {
  it.each<[string, Job | undefined, boolean]>([
    ['no anchor', undefined, false],
    ['held by another live run', anchor('host-b/0badcafe', NOW + 60_000), true],
    ['held by me', anchor('host-a/c0ffee00', NOW + 60_000), false],
    ['its holder was killed: heartbeat ran out', anchor('host-b/0badcafe', NOW - 1), false],
    ['made by kubestep up: no holder, shared', anchor(undefined, NOW + 3_600_000), false],
    ['being deleted', anchor('host-b/0badcafe', NOW + 60_000, true), false],
  ])('%s', (_, a, held) => {
    const other = otherHolder(a, 'host-a/c0ffee00', NOW);
    expect(other !== undefined).toBe(held);
    if (other) expect(other).toEqual({ holder: 'host-b/0badcafe', untilMs: NOW + 60_000 });
  });

  it('says who holds the run, until when, and what to do', () => {
    expect(heldMessage('r1', 'ci', { holder: 'host-b/0badcafe', untilMs: NOW })).toBe(
      'run r1 in namespace ci is held by another kubestep that is alive (host-b/0badcafe, heartbeat until 2026-11-29T12:00:00.000Z): nothing of it was touched. ' +
        'Parallel steps need their own run ids: leave out --run-id (each run then gets a unique one) or give each its own; ' +
        'if that kubestep was killed, its claim runs out at 2026-11-29T12:00:00.000Z',
    );
  });
});
