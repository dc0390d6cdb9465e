// Who holds a run: the process that renews its anchor's heartbeat. Pure.
import type { Job } from '../kube/types.js';
import { ANNOTATION_ALIVE_UNTIL, ANNOTATION_HOLDER } from '../manifests/jobs.js';

/** Another live process that holds a run, as its anchor says. */
export interface OtherHolder {
  holder: string;
  /** Until when its heartbeat holds the run (epoch ms), unless renewed. */
  untilMs: number;
}

/**
 * The live process other than `me` that holds the run of `anchor` at `nowMs`: the anchor names a
 * holder (a `kubestep run`) and its alive-until is in the future. Undefined when there is no
 * anchor, it is being deleted, it has no holder (`kubestep up` left it to be shared), `me` holds
 * it, or its heartbeat ran out (the holder was killed).
 */
export function otherHolder(
  anchor: Job | undefined,
  me: string,
  nowMs: number,
): OtherHolder | undefined {
  if (!anchor || anchor.metadata?.deletionTimestamp) return undefined;
  const holder = anchor.metadata?.annotations?.[ANNOTATION_HOLDER];
  if (!holder || holder === me) return undefined;
  const untilMs = Date.parse(anchor.metadata?.annotations?.[ANNOTATION_ALIVE_UNTIL] ?? '');
  return untilMs > nowMs ? { holder, untilMs } : undefined;
}

/** Why a run of id `runId` may not take over the objects in `namespace` that `other` holds. */
export function heldMessage(runId: string, namespace: string, other: OtherHolder): string {
  const until = new Date(other.untilMs).toISOString();
  return (
    `run ${runId} in namespace ${namespace} is held by another kubestep that is alive (${other.holder}, heartbeat until ${until}): ` +
    `nothing of it was touched. Parallel steps need their own run ids: leave out --run-id (each run then gets a unique one) or give each its own; ` +
    `if that kubestep was killed, its claim runs out at ${until}`
  );
}
