// A whole run, and the `up` / `down` halves of one: preflight, anchor, dependencies, test Jobs,
// teardown. Imperative shell; each step lives in its own module.
import { CancelledError, InfraError, messageOf, RunTimeoutError } from '../core/errors.js';
import { Dependencies } from '../deps/dependencies.js';
import type { StuckGraces } from '../pods/problems.js';
import { runJobs } from '../jobs/run-jobs.js';
import type { World } from '../kube/world.js';
import { cancelled, type Outcome } from '../core/outcome.js';
import { JOBS, MANAGED_KINDS, PODS, type Resource } from '../kube/resources.js';
import { listIfAllowed } from '../objects/list.js';
import { heldMessage, otherHolder } from './holder.js';
import type { Job, KubeObject } from '../kube/types.js';
import type { ServerVersion } from '../kube/api.js';
import { featuresUsed, lackedFeatures, minorVersion } from '../manifests/features.js';
import { describeOrigin } from '../manifests/parse.js';
import { collectGarbage } from '../gc/collect.js';
import { anchorJob, anchorName, type Dependency, type Heartbeat } from '../manifests/deps.js';
import { LABEL_ROLE, LABEL_TEMPLATE, runSelector, type TestJob } from '../manifests/jobs.js';
import { keepAlive } from './heartbeat.js';
import { checkAccess, requiredAccess } from './access.js';
import { createForRun } from '../objects/create.js';
import { dryRunCreate, makeRoom, preflight, type PlannedObject } from './preflight.js';
import type { Output } from '../core/output.js';
import { deleteObjects, StillDeletingError, tearDown, type CleanupPolicy } from './teardown.js';
import { Ledger, refName, refOf, type ObjectRef } from '../objects/ledger.js';
import type { ArtifactsPlan } from '../jobs/collection.js';

/** Everything `kubestep run` does, decided. */
/** What `run` and `up` share: the run, its dependencies and how to start them. */
export interface StartPlan {
  runId: string;
  dependencies: readonly Dependency[];
  /** Replace a running object of the same name that belongs to another run (--replace). */
  replace: boolean;
  /** Fields the API server drops are a warning, not exit 2 (--allow-dropped-fields). */
  allowDroppedFields?: boolean;
  /** How long teardown (and replacing stale objects) may take, ms. */
  graceMs: number;
  /** How long the dependencies may take to become ready, ms. */
  depsTimeoutMs: number;
  /** How long a pod (test or dependency) may stay stuck, per reason. */
  graces: StuckGraces;
  /** Sweep leftovers of earlier runs of the same manifests first (see gc/collect.ts). */
  sweep: boolean;
  /**
   * This process, as the holder of the run (`kubestep run`; see run/holder.ts): recorded on the
   * anchors it creates; objects of the same run id that another live holder has are not touched.
   */
  holder?: string | undefined;
  /** --dry-run: everything up to the first create, then a report (see {@link dryRun}). */
  dryRun?: boolean | undefined;
}

/** What `kubestep run` does. */
export interface RunPlan extends StartPlan {
  jobs: readonly TestJob[];
  cleanup: CleanupPolicy;
  /** How long log streams may take to end after the Jobs finished, ms. */
  drainMs: number;
  /** Lifetime of the anchor Job, s: the cluster deletes the run's objects after it. */
  backstopSeconds: number;
  /** The test pods' regular containers that are sidecars (--sidecar). */
  sidecars?: readonly string[] | undefined;
  /** Collect the test pods' artifacts (--artifacts); the Jobs are made with withArtifacts. */
  artifacts?: ArtifactsPlan | undefined;
  /** The run's heartbeat lease, s (see run/heartbeat.ts); renewed every third of it. */
  leaseSeconds: number;
}

const asPlanned = (plan: {
  jobs?: readonly TestJob[];
  dependencies: readonly Dependency[];
}): PlannedObject[] => [
  ...plan.dependencies.map((d) => ({ ...d })),
  ...(plan.jobs ?? []).map((j) => ({
    origin: j.origin,
    res: JOBS,
    namespace: j.namespace,
    name: j.name,
    object: j.job,
  })),
];

/**
 * Runs the plan: replaces stale objects, creates the anchor Jobs, creates the dependencies and
 * waits until they are ready, runs the test Jobs while watching the dependencies, and tears down
 * everything created in reverse order (per `plan.cleanup`, within `plan.graceMs`) on every way
 * out. Returns the outcome; throws InputError (exit 2) or InfraError (exit 3, e.g. a dependency
 * that cannot become ready) when the run ended before the test Jobs ran.
 */
export async function runAll(deps: World, plan: RunPlan, signal: AbortSignal): Promise<Outcome> {
  if (plan.dryRun) return dryRun(deps, { ...plan, lifetimeSeconds: plan.backstopSeconds }, signal);
  const ledger = new Ledger();
  let outcome: Outcome | undefined;
  const started: Started = {};
  try {
    const anchors = await setUp(
      deps,
      ledger,
      {
        ...plan,
        lifetimeSeconds: plan.backstopSeconds,
        renew: true,
        keep: plan.cleanup !== 'always',
      },
      started,
      signal,
    );
    outcome = await runJobs(
      deps,
      {
        runId: plan.runId,
        jobs: plan.jobs,
        drainMs: plan.drainMs,
        anchors,
        watchdog: started.dependencies?.broken,
        graces: plan.graces,
        sidecars: plan.sidecars,
        artifacts: plan.artifacts,
      },
      ledger,
      signal,
    );
    return outcome;
  } catch (err) {
    outcome = outcomeOfAbort(signal);
    if (outcome) return outcome;
    throw err;
  } finally {
    await started.dependencies?.stop();
    await tearDown(deps, ledger, {
      runId: plan.runId,
      cleanup: plan.cleanup,
      succeeded: outcome?.kind === 'succeeded',
      graceMs: plan.graceMs,
      beforeAnchors: () => started.heartbeat?.(),
    });
    started.heartbeat?.();
  }
}

/** What setUp started, for the caller to stop whatever happens. */
interface Started {
  dependencies?: Dependencies;
  /** Stops the heartbeat. */
  heartbeat?: () => void;
}

/** What {@link setUp} needs: the common part of RunPlan and UpPlan. */
interface SetUpPlan extends StartPlan {
  jobs?: readonly TestJob[];
  /** Lifetime of the anchor Jobs, s. */
  lifetimeSeconds: number;
  /** Heartbeat lease, s: how long after creation (and after each renewal) the run counts as alive. */
  leaseSeconds: number;
  /** Renew the heartbeat while the run lasts (`run`); `up` only sets it once, for its lifetime. */
  renew: boolean;
  /** The run may keep its objects (`--cleanup never` or `on-success`): they get detached. */
  keep: boolean;
}

/**
 * Everything before the test Jobs: preflight, the anchor Jobs, the dependencies created and
 * ready (recorded in `ledger`). `started.dependencies` is set before they start, so that the
 * caller stops them whatever happens. Returns the anchors by namespace.
 */
async function setUp(
  deps: World,
  ledger: Ledger,
  plan: SetUpPlan,
  started: Started,
  signal: AbortSignal,
): Promise<Map<string, Job>> {
  const namespaces = new Set([...(plan.jobs ?? []), ...plan.dependencies].map((o) => o.namespace));
  const heartbeat = () => ({
    untilMs: deps.now() + plan.leaseSeconds * 1000,
    leaseSeconds: plan.leaseSeconds,
    holder: plan.holder,
  });
  // With dependencies, an anchor of this run id left by a killed attempt is replaced; without,
  // the anchor of a `kubestep up` of this run id is shared.
  const staleAnchors =
    plan.dependencies.length > 0
      ? plannedAnchors(plan.runId, namespaces, plan.lifetimeSeconds, heartbeat())
      : [];
  const checks = requiredAccess({
    testNamespaces: new Set((plan.jobs ?? []).map((j) => j.namespace)),
    dependencies: plan.dependencies,
    keep: plan.keep,
  });
  // The access review, the sweep and the dry run at once (one round trip instead of three before
  // the first create); the sweep's lines wait for the review, whose error comes first.
  const planned = [...asPlanned(plan), ...staleAnchors];
  const held: (() => void)[] = [];
  const sweepOut: Output = Object.assign(Object.create(deps.out) as Output, {
    info: (m: string) => held.push(() => deps.out.info(m)),
    warn: (m: string) => held.push(() => deps.out.warn(m)),
    debug: (m: string) => held.push(() => deps.out.debug(m)),
  });
  const [access, swept, taken] = await Promise.allSettled([
    checkAccess(deps.client, checks, signal),
    plan.sweep ? sweep({ ...deps, out: sweepOut }, asPlanned(plan), plan.runId, signal) : undefined,
    dryRunCreate(deps, planned, plan.allowDroppedFields ?? false, signal),
  ]);
  if (access.status === 'rejected') throw access.reason;
  if (access.value) deps.out.debug(access.value);
  held.forEach((f) => f());
  if (swept.status === 'rejected') throw swept.reason;
  if (taken.status === 'rejected') throw taken.reason;
  await makeRoom(deps, planned, taken.value, plan, signal);
  const anchors = await createAnchors(
    deps,
    ledger,
    plan.runId,
    namespaces,
    plan.lifetimeSeconds,
    heartbeat,
    plan.holder,
    signal,
  );
  if (plan.renew) {
    const own = ledger.items.filter((i) => i.stage === 'anchor');
    started.heartbeat = keepAlive(deps, own, plan.leaseSeconds);
  }
  if (plan.dependencies.length > 0) {
    started.dependencies = new Dependencies(
      deps,
      {
        runId: plan.runId,
        deps: plan.dependencies,
        timeoutMs: plan.depsTimeoutMs,
        anchors,
        graces: plan.graces,
      },
      ledger,
      signal,
    );
    await started.dependencies.start();
  }
  return anchors;
}

/**
 * `--dry-run`: everything a run does before its first create, creating, changing and deleting
 * nothing: the cluster's version and the features of the manifests it lacks, the access review,
 * the sweep it would do, the objects it would replace, the server-side dry run of every create;
 * then the objects it would create, by namespace. Returns `succeeded` when a real run would
 * start; throws what the real run would throw (InputError: exit 2, InfraError: exit 3).
 */
async function dryRun(
  deps: World,
  plan: StartPlan & { jobs?: readonly TestJob[]; lifetimeSeconds: number; leaseSeconds: number },
  signal: AbortSignal,
): Promise<Outcome> {
  const { out } = deps;
  const planned = asPlanned(plan);
  const namespaces = new Set(planned.map((p) => p.namespace));
  await describeCluster(deps, planned, signal);
  const checks = requiredAccess({
    testNamespaces: new Set((plan.jobs ?? []).map((j) => j.namespace)),
    dependencies: plan.dependencies,
    keep: false,
  });
  const skipped = await checkAccess(deps.client, checks, signal);
  if (skipped) out.warn(skipped);
  if (plan.sweep) await sweep(deps, planned, plan.runId, signal, true);
  const anchors = plannedAnchors(plan.runId, namespaces, plan.lifetimeSeconds, {
    untilMs: deps.now() + plan.leaseSeconds * 1000,
    leaseSeconds: plan.leaseSeconds,
    holder: plan.holder,
  });
  // The anchors are checked as a real run treats them: replaced when dependencies come along.
  const stale = plan.dependencies.length > 0 ? anchors : [];
  await preflight(deps, [...planned, ...stale], { ...plan, dryRun: true }, signal);
  for (const ns of namespaces) {
    const here = [...anchors, ...planned].filter((p) => p.namespace === ns);
    out.info(
      `would create in namespace ${ns}: ${here.map((p) => `${p.res.kind}/${p.name}${p.res === JOBS && p.name === anchorName(plan.runId) ? " (the run's anchor)" : ''}`).join(', ')}`,
    );
  }
  const message =
    'DRY RUN: the server accepts every object and the credentials may do what the run needs: a real run would start (nothing was created, changed or deleted)';
  return { kind: 'succeeded', reason: 'Done', jobs: [], message };
}

/**
 * Says which Kubernetes version the cluster runs and which features of the manifests it does not
 * have on by default (e.g. native sidecars on 1.20), naming where each is used. A version that
 * cannot be read is a debug line.
 */
async function describeCluster(
  { client, out }: World,
  planned: readonly PlannedObject[],
  signal: AbortSignal,
): Promise<void> {
  let v: ServerVersion;
  try {
    v = await client.version(signal);
  } catch (err) {
    if (signal.aborted) throw err;
    out.debug(`cluster version unknown: ${messageOf(err)}`);
    return;
  }
  const minor = minorVersion(v.major, v.minor);
  out.info(`dry run against Kubernetes ${v.gitVersion}`);
  if (minor === undefined) return;
  for (const p of planned) {
    for (const f of lackedFeatures(featuresUsed(p.object), minor))
      out.warn(
        `${describeOrigin(p.origin)}: ${f.at}: ${f.feature} needs Kubernetes ${f.since} or newer; this cluster is 1.${minor}`,
      );
  }
}

/** The outcome of a run stopped by its signal before the Jobs ran, if it was. */
function outcomeOfAbort(signal: AbortSignal): Outcome | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledError) return cancelled(reason.signal);
  if (reason instanceof RunTimeoutError) {
    const message = `${reason.message} before the tests started`;
    return { kind: 'timed-out', reason: 'Timeout', jobs: [], message };
  }
  return undefined;
}

function plannedAnchors(
  runId: string,
  namespaces: ReadonlySet<string>,
  lifetimeSeconds: number,
  heartbeat: Heartbeat,
): PlannedObject[] {
  return [...namespaces].map((ns) => ({
    origin: { source: '(kubestep)', index: 1, line: 1 },
    res: JOBS,
    namespace: ns,
    name: anchorName(runId),
    object: anchorJob(runId, ns, lifetimeSeconds, heartbeat),
  }));
}

/** The sweep keeps Jobs that still run after a run ended for this long, like gc's --max-age. */
const SWEEP_MAX_AGE_MS = 24 * 3_600_000;

/**
 * Deletes what earlier runs of the same manifests (label kubestep.dev/template) left behind, if
 * those runs are over: gc's rules with no age limit (see gc/rules.ts). Never fails the run: a
 * failure is a warning; only cancellation is thrown.
 */
async function sweep(
  deps: World,
  planned: readonly PlannedObject[],
  runId: string,
  signal: AbortSignal,
  dryRun = false,
): Promise<void> {
  const templates = new Set(
    planned.flatMap((p) => p.object.metadata?.labels?.[LABEL_TEMPLATE] ?? []),
  );
  if (templates.size === 0) return;
  try {
    const report = await collectGarbage(
      deps,
      {
        namespaces: [...new Set(planned.map((p) => p.namespace))],
        kinds: [...new Set(planned.map((p) => p.res))],
        templates,
        exceptRunId: runId,
      },
      { olderThanMs: 0, maxAgeMs: SWEEP_MAX_AGE_MS },
      { dryRun },
      signal,
    );
    const byRun = new Map<string, string[]>();
    for (const d of report.done) {
      const what = `${d.res.kind}/${d.object.metadata?.name ?? ''}`;
      byRun.set(d.runId, [...(byRun.get(d.runId) ?? []), what]);
    }
    for (const [other, objects] of byRun) {
      deps.out.info(
        `sweep: ${dryRun ? 'would delete' : 'deleted'} ${objects.join(', ')} of earlier run ${other} (it is over)`,
      );
    }
    const live = report.kept['run live'] ?? 0;
    if (live > 0) deps.out.debug(`sweep: ${live} objects of other runs that are alive left alone`);
    for (const f of report.failures) deps.out.warn(`sweep: could not delete ${f}`);
  } catch (err) {
    if (signal.aborted) throw err;
    deps.out.warn(`sweep of earlier runs skipped: ${messageOf(err)}`);
  }
}

/**
 * Creates the run's anchor Job in each namespace (see `anchorJob`) and records it; returns them
 * by namespace. An anchor of the same run id that exists already (made by `kubestep up`) is used
 * and left alone. Warns when the cluster dropped `ttlSecondsAfterFinished` (no TTL controller).
 */
async function createAnchors(
  { client, out, now }: World,
  ledger: Ledger,
  runId: string,
  namespaces: ReadonlySet<string>,
  lifetimeSeconds: number,
  heartbeat: () => Heartbeat,
  holder: string | undefined,
  signal: AbortSignal,
): Promise<Map<string, Job>> {
  const anchors = new Map<string, Job>();
  for (const ns of namespaces) {
    const { object: created, adopted } = await createForRun(
      client,
      JOBS,
      ns,
      anchorJob(runId, ns, lifetimeSeconds, heartbeat()),
      runId,
      signal,
      (found) => {
        // Another live run of this id got here first (the same --run-id in parallel steps).
        const other = otherHolder(found, holder ?? '', now());
        if (other) throw new InfraError(heldMessage(runId, ns, other));
      },
    );
    anchors.set(ns, created);
    if (adopted) {
      // Made by `kubestep up` of this run: shared, and left for its `down`.
      out.debug(`job/${anchorName(runId)} exists (kubestep up of this run): sharing it`);
      continue;
    }
    ledger.add(JOBS, created, 'anchor');
    if (created.spec?.ttlSecondsAfterFinished === undefined) {
      out.warn(
        `this cluster ignores ttlSecondsAfterFinished (no TTL controller): if kubestep is killed, its objects stay until \`kubestep down --run-id ${runId}\``,
      );
    } else {
      out.debug(
        `job/${created.metadata?.name} in ${ns}: the cluster deletes this run's objects after ${lifetimeSeconds} s if kubestep is killed`,
      );
    }
  }
  return anchors;
}

/** What `kubestep up` does, decided. */
/** What `kubestep up` does. */
export interface UpPlan extends StartPlan {
  /** Lifetime of the anchor Job: the cluster deletes everything after it, s. */
  lifetimeSeconds: number;
}

/**
 * Creates the dependencies and waits until they are ready, then leaves them running (for
 * `kubestep down`, or the anchor's lifetime). On failure or cancellation whatever was created is
 * deleted. Returns the cancelled outcome when the signal stopped it, the dry run's report with
 * `plan.dryRun`, else undefined; throws like {@link runAll}.
 */
export async function bringUp(
  deps: World,
  plan: UpPlan,
  signal: AbortSignal,
): Promise<Outcome | undefined> {
  if (plan.dryRun) return dryRun(deps, { ...plan, leaseSeconds: plan.lifetimeSeconds }, signal);
  const ledger = new Ledger();
  let ok = false;
  const started: Started = {};
  try {
    // The heartbeat is set once, for the lifetime: the later steps of the build use them.
    await setUp(
      deps,
      ledger,
      { ...plan, leaseSeconds: plan.lifetimeSeconds, renew: false, keep: false },
      started,
      signal,
    );
    ok = true;
    return undefined;
  } catch (err) {
    const outcome = outcomeOfAbort(signal);
    if (outcome) return outcome;
    throw err;
  } finally {
    await started.dependencies?.stop();
    if (!ok) {
      await tearDown(deps, ledger, {
        runId: plan.runId,
        cleanup: 'always',
        succeeded: false,
        graceMs: plan.graceMs,
      });
    }
  }
}

/**
 * Deletes everything of run `runId` in `namespace`, found by its labels: test Jobs first, then
 * Deployments, StatefulSets, bare Pods, Services, ConfigMaps and Secrets, then the anchor Job;
 * waits until they are gone, at most `graceMs`. Returns what it deleted (empty: nothing was there)
 * and how many were still terminating at the deadline (their deletion continues in the cluster).
 */
export async function bringDown(
  deps: World,
  opts: { runId: string; namespace: string; graceMs: number },
  signal: AbortSignal,
): Promise<{ deleted: ObjectRef[]; stillDeleting: boolean }> {
  const selector = { labelSelector: runSelector(opts.runId) };
  const found = await Promise.all(
    MANAGED_KINDS.map(async (res) => {
      const list = await listIfAllowed<KubeObject>(
        deps.client,
        res,
        opts.namespace,
        selector,
        signal,
      );
      if (!list) {
        // The anchor's deletion takes them along (they are its dependents), unless detached.
        deps.out.debug(
          `may not list ${res.plural} in ${opts.namespace}: left to the garbage collector`,
        );
        return [];
      }
      return (
        list.items
          // Pods of Jobs, ReplicaSets and StatefulSets go with their owners.
          .filter((o) => res !== PODS || !o.metadata?.ownerReferences?.some((r) => r.controller))
          .map((o) => ({ res, o }))
      );
    }),
  );
  const all = found.flat();
  const isAnchor = (x: { o: KubeObject }) => x.o.metadata?.labels?.[LABEL_ROLE] === 'anchor';
  const toRef = ({ res, o }: { res: Resource; o: KubeObject }): ObjectRef => refOf(res, o);
  const ordered = [...all.filter((x) => !isAnchor(x)), ...all.filter(isAnchor)];
  // Objects whose deletion was requested before (an earlier down) are only waited for.
  const targets = ordered.filter((x) => !x.o.metadata?.deletionTimestamp).map(toRef);
  const terminating = ordered.filter((x) => x.o.metadata?.deletionTimestamp).map(toRef);
  if (targets.length > 0) deps.out.info(`deleting ${targets.map(refName).join(', ')}`);
  if (terminating.length > 0) {
    deps.out.info(`waiting for ${terminating.map(refName).join(', ')} (being deleted already)`);
  }
  try {
    await deleteObjects(deps, [...targets, ...terminating], deps.now() + opts.graceMs, signal);
  } catch (err) {
    if (!(err instanceof StillDeletingError)) throw err;
    return { deleted: targets, stillDeleting: true };
  }
  return { deleted: targets, stillDeleting: false };
}
