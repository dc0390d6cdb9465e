// Events in words people read. Pure.
import type { KubeEvent } from '../kube/types.js';

/**
 * Up to `max` events as `kubectl describe` shows them, Warning first, newest first within each
 * type: `Warning  BackOff  3x over 40s  Back-off pulling image "x"`. Times in ms.
 */
export function formatEvents(events: readonly KubeEvent[], nowMs: number, max = 10): string[] {
  const last = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') || 0;
  const sorted = [...events].sort(
    (a, b) => Number(b.type === 'Warning') - Number(a.type === 'Warning') || last(b) - last(a),
  );
  return sorted.slice(0, max).map((e) => {
    const first = Date.parse(e.firstTimestamp ?? e.eventTime ?? '') || last(e);
    const age = (ms: number) => Math.max(0, Math.round((nowMs - ms) / 1000));
    const count = (e.count ?? 1) > 1 ? `${e.count}x over ${age(first)}s` : `${age(last(e))}s ago`;
    return `${e.type ?? 'Normal'}  ${e.reason ?? ''}  ${count}  ${(e.message ?? '').trim()}`;
  });
}
