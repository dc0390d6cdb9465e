// What a run created, and deleting it: in reverse order of creation, within one grace period.
// Imperative shell over KubeApi.
import { InfraError, messageOf } from '../core/errors.js';
import { sleep } from '../core/abort.js';
import type { World } from '../kube/world.js';
import type { Output } from '../core/output.js';
import { isStatus } from '../kube/errors.js';
import { refName, type Ledger, type ObjectRef } from '../objects/ledger.js';
import { DEPLOYMENTS, JOBS, PODS, STATEFULSETS } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { runSelector } from '../manifests/jobs.js';
import { SIDECAR_STOP_GRACE_S } from '../pods/sidecars.js';

/** The part of the world deletions use. */
export type DeleteDeps = Pick<World, 'client' | 'now'> & { out: Pick<Output, 'info' | 'warn'> };

/** Deletion was requested, but the object was still there at the deadline. */
export class StillDeletingError extends InfraError {}

/**
 * Deletes `targets` one after the other, in the given order, then waits until all are gone (a
 * Job with a known pod selector: also its pods), until `deadlineMs` (epoch ms). Jobs with a known
 * pod selector are deleted with propagationPolicy Background (kubestep deletes their pods, or the
 * garbage collector does, and waits for them); other Jobs, Deployments and StatefulSets Foreground, so
 * that their pods go first; the rest Background. A Job whose pods have all ended and are known
 * (`endedPods`; the anchor, which has none) is deleted with them by name, and nothing is waited
 * for when each is gone at once (2 requests for a one-pod Job instead of 6). Throws StillDeletingError naming one still
 * there after the deadline, KubeApiError/InfraError when a request fails.
 * Source: https://kubernetes.io/docs/tasks/administer-cluster/use-cascading-deletion/
 */
export async function deleteObjects(
  deps: DeleteDeps,
  targets: readonly ObjectRef[],
  deadlineMs: number,
  signal: AbortSignal,
): Promise<void> {
  const lingering: ObjectRef[] = [];
  for (const t of targets) {
    if (t.res === JOBS && t.endedPods !== undefined) {
      if (await deleteEnded(deps, t, signal)) lingering.push(t);
      continue;
    }
    const withPods = t.res === JOBS && t.pods !== undefined;
    const foreground =
      (t.res === JOBS && !withPods) || t.res === DEPLOYMENTS || t.res === STATEFULSETS;
    // A Job with sidecars still running in pods whose main containers ended: deleted orphaning
    // its pods, so that no garbage collector's deletion with the pods' own grace (30 s by default,
    // for a sidecar that ignores SIGTERM; the 1.20 kubelet keeps to the first grace it gets) comes
    // before kubestep's with a short one, and no Job controller replaces a deleted pod.
    const orphan = t.res === JOBS && withPods && (t.sidecarPods?.length ?? 0) > 0;
    const result = await deps.client.delete(
      t.res,
      t.namespace,
      t.name,
      {
        propagationPolicy: orphan ? 'Orphan' : foreground ? 'Foreground' : 'Background',
        uid: t.uid,
      },
      signal,
    );
    for (const pod of t.sidecarPods ?? []) {
      await deps.client.delete(
        PODS,
        t.namespace,
        pod,
        { propagationPolicy: 'Background', gracePeriodSeconds: SIDECAR_STOP_GRACE_S },
        signal,
      );
    }
    // A Job gone at once may leave pods for the garbage collector: wait for them too.
    if (result === 'deleting' || withPods) lingering.push(t);
  }
  await Promise.all(lingering.map((t) => waitUntilGone(deps, t, deadlineMs, signal)));
}

/**
 * Deletes Job `t` (Background) and its ended pods by name, without listing anything: an ended
 * pod is removed at once. Returns true when something is still being deleted (or kubestep may not
 * delete pods), to be waited for as any Job.
 */
async function deleteEnded(deps: DeleteDeps, t: ObjectRef, signal: AbortSignal): Promise<boolean> {
  const job = await deps.client.delete(
    t.res,
    t.namespace,
    t.name,
    { propagationPolicy: 'Background', uid: t.uid },
    signal,
  );
  const pods = await Promise.all(
    (t.endedPods ?? []).map((p) =>
      deps.client
        .delete(PODS, t.namespace, p.name, { propagationPolicy: 'Background', uid: p.uid }, signal)
        .catch((err: unknown) => {
          if (isStatus(err, 403)) return 'forbidden' as const;
          throw err;
        }),
    ),
  );
  return job === 'deleting' || pods.some((r) => r === 'deleting' || r === 'forbidden');
}

async function waitUntilGone(
  deps: DeleteDeps,
  t: ObjectRef,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<void> {
  let mayDeletePods = true;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    const o = await deps.client.get<KubeObject>(t.res, t.namespace, t.name, signal);
    const objectGone = !o || (t.uid !== undefined && o.metadata?.uid !== t.uid);
    const pods = await podsOf(deps, t, signal);
    if (objectGone && pods.length === 0) return;
    let requestedNow = 0;
    if (objectGone && mayDeletePods) {
      const n = await deletePods(deps, pods, signal);
      if (n === undefined) mayDeletePods = false;
      else requestedNow = n;
    }
    if (deps.now() >= deadlineMs) {
      throw new StillDeletingError(
        `${refName(t)} in namespace ${t.namespace} is still being deleted (its pods are terminating): try again shortly, or raise --grace`,
      );
    }
    // Pods that had ended are deleted at once: look again without waiting.
    if (requestedNow === 0) await sleep(delay, signal);
  }
}

/** The pods of Job `t` (by its pod selector, and owned by its uid when known); none without one. */
async function podsOf(deps: DeleteDeps, t: ObjectRef, signal: AbortSignal): Promise<KubeObject[]> {
  if (t.pods === undefined) return [];
  const list = await deps.client.list<KubeObject>(
    PODS,
    t.namespace,
    { labelSelector: t.pods },
    signal,
  );
  // Its own pods, and pods its deletion orphaned (no controller any more; the selector is the
  // Job's controller-uid).
  return list.items.filter(
    (p) =>
      t.uid === undefined ||
      p.metadata?.ownerReferences?.some((r) => r.uid === t.uid) ||
      !p.metadata?.ownerReferences?.some((r) => r.controller),
  );
}

/**
 * Requests the deletion of the pods of a deleted Job that nobody has requested yet (no
 * deletionTimestamp; the garbage collector takes up to a second): a pod that has ended is deleted
 * at once, a running one after its terminationGracePeriodSeconds. Returns how many it requested,
 * or undefined when the credentials may not delete pods (the garbage collector then does it).
 */
async function deletePods(
  deps: DeleteDeps,
  pods: readonly KubeObject[],
  signal: AbortSignal,
): Promise<number | undefined> {
  let requested = 0;
  for (const p of pods.filter((x) => !x.metadata?.deletionTimestamp)) {
    try {
      await deps.client.delete(
        PODS,
        p.metadata?.namespace,
        p.metadata?.name ?? '',
        { propagationPolicy: 'Background', uid: p.metadata?.uid },
        signal,
      );
    } catch (err) {
      if (isStatus(err, 403)) return undefined;
      throw err;
    }
    requested++;
  }
  return requested;
}

/** When to delete what the run created. */
export type CleanupPolicy = 'always' | 'on-success' | 'never';

/**
 * Deletes what the run created, per `cleanup`, in reverse order of creation: the test Jobs (all
 * at once; they stop using the dependencies), then the dependencies from the last created to the
 * first, then the anchor Jobs; everything within `graceMs` in all, under a signal of its own (it
 * must also run after the run's signal aborted). Failures become a warning with the command to
 * check; nothing is thrown. When the objects are kept, their ownerReferences to the anchor are
 * removed (merge patch) and the anchors are deleted with propagationPolicy Orphan (so nothing
 * deletes the kept objects on its own), and the output says how to delete them later. `opts.beforeAnchors` is called once, just before the deletion of the
 * anchors is requested (the run stops its heartbeat there: a renewal must not find them gone).
 */
export async function tearDown(
  deps: DeleteDeps,
  ledger: Ledger,
  opts: {
    runId: string;
    cleanup: CleanupPolicy;
    succeeded: boolean;
    graceMs: number;
    beforeAnchors?: () => void;
  },
): Promise<void> {
  const items = ledger.items;
  if (items.length === 0) return;
  const namespaces = [...new Set(items.map((i) => i.namespace))];
  const keep = opts.cleanup === 'never' || (opts.cleanup === 'on-success' && !opts.succeeded);
  if (keep) {
    const visible = items.filter((i) => i.stage !== 'anchor');
    deps.out.info(
      `keeping ${visible.length} objects (--cleanup ${opts.cleanup}): ${visible.map(refName).join(', ')}`,
    );
    // The anchor goes alone: the kept objects lose their owner, so neither its TTL nor the
    // garbage collector deletes them; the next run of the same manifests, gc or down does. They
    // are detached first: Orphan alone races the garbage collector, which deletes an object
    // created just before (not yet in its graph) once its owner is gone.
    const signal = AbortSignal.timeout(opts.graceMs);
    const attached: string[] = [];
    for (const o of items.filter((i) => i.stage !== 'anchor')) {
      await deps.client
        .patch(o.res, o.namespace, o.name, { metadata: { ownerReferences: null } }, signal)
        .catch(() => attached.push(refName(o)));
    }
    if (attached.length > 0) {
      deps.out.warn(
        `could not detach ${attached.join(', ')} from the run's anchor (needs patch on those kinds: deploy/rbac-optional.yaml): the garbage collector may delete them with it`,
      );
    }
    opts.beforeAnchors?.();
    for (const a of items.filter((i) => i.stage === 'anchor')) {
      await deps.client
        .delete(a.res, a.namespace, a.name, { propagationPolicy: 'Orphan', uid: a.uid }, signal)
        .catch((err: unknown) => deps.out.warn(`cleanup: ${refName(a)}: ${messageOf(err)}`));
    }
    for (const ns of namespaces) {
      deps.out.info(
        `  delete them with: kubestep down --run-id ${opts.runId} -n ${ns} (the next run of these manifests, or kubestep gc, deletes them too)`,
      );
    }
    return;
  }
  const deadline = deps.now() + opts.graceMs;
  // Waiting ends at the deadline; requests get a little longer, so that the deletion of the
  // dependencies and the anchor is still requested after a slow wait for the tests.
  const signal = AbortSignal.timeout(opts.graceMs + 5_000);
  const tests = items.filter((i) => i.stage === 'test');
  const rest = [
    ...items.filter((i) => i.stage === 'dependency').reverse(),
    ...items.filter((i) => i.stage === 'anchor'),
  ];
  let late = false;
  let unanswered = false;
  const errors: string[] = [];
  const attempt = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      if (err instanceof StillDeletingError) late = true;
      else if (deps.now() >= deadline) unanswered = true;
      else errors.push(messageOf(err));
    }
  };
  if (tests.length > 0) {
    deps.out.info(`deleting ${tests.map(refName).join(', ')}`);
    // Test Jobs are independent: delete them together; they stop using the dependencies first.
    await attempt(() =>
      Promise.all(tests.map((o) => deleteObjects(deps, [o], deadline, signal))).then(() => {}),
    );
  }
  const visible = rest.filter((i) => i.stage !== 'anchor');
  if (visible.length > 0) deps.out.info(`deleting ${visible.map(refName).join(', ')}`);
  // The dependencies and the anchors are requested one after the other, without waiting between.
  opts.beforeAnchors?.();
  if (rest.length > 0) await attempt(() => deleteObjects(deps, rest, deadline, signal));
  if (late || unanswered || errors.length > 0) {
    const grace = Math.round(opts.graceMs / 1000);
    const what = [
      ...(late
        ? [
            `not all gone after --grace ${grace} s (deletion was requested and continues in the cluster)`,
          ]
        : []),
      ...(unanswered
        ? [
            `the API server did not answer within --grace ${grace} s, so not every deletion may have been requested (the run's anchor Job takes what is left with it when its deadline passes)`,
          ]
        : []),
      ...errors,
    ].join('; ');
    deps.out.warn(
      `cleanup: ${what}; check with: kubectl get all,configmaps,secrets -l ${runSelector(opts.runId)} -n ${namespaces.join(',')}`,
    );
  }
}
