// Printing the events of objects that failed, as `kubectl describe` shows them. Imperative shell.
import type { KubeApi } from '../kube/api.js';
import { eventsOf } from '../kube/events.js';
import type { KubeObject } from '../kube/types.js';
import { formatEvents } from './event-lines.js';

/**
 * Prints up to 10 recent events of each subject (Warning first) under `events of LABEL:`,
 * indented. Subjects without events print nothing; failures to list go to the debug log (each
 * list is bounded to 5 s, so explaining never holds up the verdict or the cleanup).
 */
export async function printEvents(
  {
    client,
    out,
    now,
  }: {
    client: KubeApi;
    out: { info(m: string): void; debug(m: string): void };
    now: () => number;
  },
  subjects: readonly { label: string; object: KubeObject }[],
  signal: AbortSignal,
): Promise<void> {
  const found = await Promise.all(subjects.map((s) => eventsOf(client, s.object, signal)));
  subjects.forEach((s, i) => {
    const { events, error } = found[i]!;
    if (error) out.debug(`events of ${s.label}: ${error}`);
    const lines = formatEvents(events, now());
    if (lines.length === 0) return;
    out.info(`  events of ${s.label}:`);
    lines.forEach((l) => out.info(`    ${l}`));
  });
}
