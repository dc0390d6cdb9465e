// The heartbeat of a running `kubestep run`: renewing `kubestep.dev/alive-until` on its anchor
// Jobs, so that other runs' sweeps and `kubestep gc` leave its objects alone. Imperative shell.
import { messageOf } from '../core/errors.js';
import { ANNOTATION_ALIVE_UNTIL } from '../manifests/jobs.js';
import { JOBS } from '../kube/resources.js';
import type { ObjectRef } from '../objects/ledger.js';
import type { DeleteDeps } from './teardown.js';

/**
 * Renews the heartbeat of `anchors` every `leaseSeconds / 2` (each renewal sets alive-until to
 * now + `leaseSeconds`) until the returned function is called; a failed renewal is tried again
 * every `leaseSeconds / 30` (at least 1 s; debug log), so that the lease never runs out while
 * the API server answers within half a lease. An anchor that is gone is dropped with a warning.
 * Never throws. It has its own signal, not the run's: the heartbeat must go on while the
 * teardown of a cancelled run deletes its objects; the caller stops it after the teardown.
 * Source: the lease and renew/retry periods of client-go's leaderelection.
 */
export function keepAlive(
  deps: DeleteDeps & { out: { debug(message: string): void } },
  anchors: readonly ObjectRef[],
  leaseSeconds: number,
): () => void {
  const live = [...anchors];
  const stop = new AbortController();
  const tickSignal = stop.signal;
  /** Renews `a`; true when it was renewed or is gone (nothing to retry). */
  const renew = async (a: ObjectRef): Promise<boolean> => {
    const patch = {
      metadata: {
        ...(a.uid ? { uid: a.uid } : {}),
        annotations: {
          [ANNOTATION_ALIVE_UNTIL]: new Date(deps.now() + leaseSeconds * 1000).toISOString(),
        },
      },
    };
    try {
      const found = await deps.client.patch(JOBS, a.namespace, a.name, patch, tickSignal);
      if (!found && live.includes(a) && !tickSignal.aborted) {
        live.splice(live.indexOf(a), 1);
        deps.out.warn(
          `job/${a.name} in ${a.namespace} (this run's anchor) was deleted by someone else: the cluster may delete this run's objects with it`,
        );
      }
      return true;
    } catch (err) {
      if (!tickSignal.aborted) deps.out.debug(`heartbeat of job/${a.name}: ${messageOf(err)}`);
      return false;
    }
  };
  const renewMs = Math.max(250, (leaseSeconds * 1000) / 2);
  const retryMs = Math.max(1000, (leaseSeconds * 1000) / 30);
  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    if (tickSignal.aborted) return;
    const renewed = await Promise.all(live.map(renew));
    if (!tickSignal.aborted)
      timer = setTimeout(() => void beat(), renewed.every(Boolean) ? renewMs : retryMs);
  };
  timer = setTimeout(() => void beat(), renewMs);
  return () => {
    clearTimeout(timer);
    stop.abort();
  };
}
