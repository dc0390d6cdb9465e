// One run of test Jobs: replace stale Jobs, create, follow logs, wait, clean up. Imperative shell
// over KubeClient; decisions come from the pure modules.
import { CancelledError, InfraError, InputError, messageOf, RunTimeoutError } from '../errors.js';
import { JOBS, PODS, sleep, type KubeClient, type Resource } from '../kube/client.js';
import { isStatus, KubeApiError } from '../kube/errors.js';
import { runInformer } from '../kube/informer.js';
import type { Job, KubeObject, Pod } from '../kube/types.js';
import { LogFollower, type LogSink } from '../logs/follower.js';
import { LABEL_RUN_ID, runSelector, type TestJob } from '../manifests/jobs.js';
import { describeOrigin } from '../manifests/parse.js';
import { summarizeJob, type JobSummary } from '../report/summary.js';
import { isJobFinished, jobState } from './status.js';

/** When to delete what the run created. */
export type CleanupPolicy = 'always' | 'on-success' | 'never';

/** What kubestep prints besides the mirrored logs (to stderr). */
export interface Output {
  info(message: string): void;
  warn(message: string): void;
  /** Debug details (retries, reconnects); shown with --verbose. */
  debug(message: string): void;
  logs: LogSink;
}

/** The injected world of a run. */
export interface RunDeps {
  client: KubeClient;
  out: Output;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** What to run and how. */
export interface RunPlan {
  runId: string;
  jobs: TestJob[];
  /** Replace a running Job of the same name that belongs to another run. */
  replace: boolean;
  cleanup: CleanupPolicy;
  /** How long cleanup (and stale-Job deletion) may wait for objects to be gone, ms. */
  graceMs: number;
  /** How long to wait for log streams to end after the Jobs finished, ms. */
  drainMs: number;
}

/** How a run ended. The exit code and the summary derive from it. */
export type RunOutcome =
  | { kind: 'succeeded'; jobs: JobSummary[] }
  | { kind: 'failed'; jobs: JobSummary[]; message: string }
  | { kind: 'timed-out'; jobs: JobSummary[]; message: string }
  | { kind: 'infra-error'; jobs: JobSummary[]; message: string }
  | { kind: 'cancelled'; jobs: JobSummary[]; signal: 'SIGINT' | 'SIGTERM' };

interface Tracked {
  plan: TestJob;
  created?: Job;
  job?: Job;
  deleted: boolean;
  pods: Map<string, Pod>;
}

/**
 * Runs the plan's Jobs in parallel and returns the outcome; InputError (bad manifest, found by
 * the API server's dry-run) and InfraError (conflict, API failure) are thrown before anything is
 * created. `signal` aborts with {@link CancelledError} or {@link RunTimeoutError} as its reason.
 * Whatever was created is deleted per `plan.cleanup`, also when the run is cancelled or fails.
 */
export async function runJobs(
  deps: RunDeps,
  plan: RunPlan,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const { client, out } = deps;
  const startedAt = deps.now();
  const tracked = new Map<string, Tracked>(
    plan.jobs.map((p) => [key(p.namespace, p.name), { plan: p, deleted: false, pods: new Map() }]),
  );
  const inner = new AbortController();
  const innerSignal = AbortSignal.any([signal, inner.signal]);
  const follower = new LogFollower(client, out.logs, signal);
  const informers: Promise<void>[] = [];
  let outcome: RunOutcome | undefined;

  const summaries = (): JobSummary[] =>
    [...tracked.values()].map((t) =>
      summarizeJob(t.plan.name, t.plan.namespace, t.job ?? t.created, [...t.pods.values()], {
        startedAtMs: startedAt,
        nowMs: deps.now(),
      }),
    );

  try {
    const stale = await findStaleJobs(deps, plan, signal);
    await dryRunCreate(deps, plan.jobs, signal);
    await deleteJobs(
      deps,
      stale.map((job) => ({
        namespace: job.metadata!.namespace!,
        name: job.metadata!.name!,
        uid: job.metadata!.uid,
        note: `replacing job/${job.metadata!.name!} (${jobState(job).phase}, run ${job.metadata?.labels?.[LABEL_RUN_ID] ?? 'not by kubestep'})`,
      })),
      plan.graceMs,
      signal,
    );

    // Watch before creating, so that no pod or condition can be missed.
    let settle!: () => void;
    let fail!: (err: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => ((settle = resolve), (fail = reject)));
    // An informer may fail before anyone awaits `finished`: that must not be an unhandled rejection.
    finished.catch(() => undefined);
    const check = () => {
      const all = [...tracked.values()];
      if (all.every((t) => t.created && (t.deleted || (t.job && isJobFinished(t.job))))) settle();
    };
    const onJob = (job: Job, deleted = false) => {
      const t = tracked.get(key(job.metadata?.namespace ?? '', job.metadata?.name ?? ''));
      if (!t?.created || job.metadata?.uid !== t.created.metadata?.uid) return;
      const wasFinished = t.job ? isJobFinished(t.job) : false;
      t.job = job;
      if (deleted && !isJobFinished(job)) {
        t.deleted = true;
        out.warn(`job/${t.plan.name} was deleted by someone else while it ran`);
      }
      if (!wasFinished && isJobFinished(job)) {
        const s = jobState(job);
        const reason = s.phase !== 'running' && s.reason ? ` (${s.reason})` : '';
        out.info(`job/${t.plan.name} ${s.phase === 'complete' ? 'Complete' : 'Failed'}${reason}`);
      }
      check();
    };
    const onPod = (pod: Pod, deleted = false) => {
      const owner = pod.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Job');
      const t = owner && [...tracked.values()].find((x) => x.created?.metadata?.uid === owner.uid);
      if (!t || !pod.metadata?.uid) return;
      t.pods.set(pod.metadata.uid, pod);
      follower.update(pod, deleted);
    };
    const selector = { labelSelector: `${LABEL_RUN_ID}=${plan.runId}` };
    const inform = <T extends KubeObject>(
      res: Resource,
      ns: string,
      on: (o: T, deleted?: boolean) => void,
    ) =>
      runInformer<T>(
        client,
        res,
        ns,
        selector,
        {
          onList: (items) => items.forEach((o) => on(o)),
          onEvent: (type, o) => on(o, type === 'DELETED'),
          onReconnect: (why) => out.debug(why),
        },
        innerSignal,
      ).catch(fail);
    for (const ns of new Set(plan.jobs.map((j) => j.namespace))) {
      informers.push(inform<Job>(JOBS, ns, onJob), inform<Pod>(PODS, ns, onPod));
    }

    // allSettled: every create has ended (and is recorded for cleanup) before an error is thrown.
    const creates = await Promise.allSettled(
      [...tracked.values()].map(async (t) => {
        t.created = await createJob(deps, plan.runId, t.plan, signal);
        out.info(`created job/${t.plan.name} in namespace ${t.plan.namespace}`);
      }),
    );
    const createError = creates.find((c) => c.status === 'rejected');
    if (createError) throw createError.reason;
    // Re-read once: events that arrived before `created` was set were ignored.
    for (const t of tracked.values()) {
      const job = await client.get<Job>(JOBS, t.plan.namespace, t.plan.name, signal);
      if (job) onJob(job);
    }

    await raceAbort(finished, signal);

    // Catch up with the final pod states, so that every container's log is followed.
    for (const ns of new Set(plan.jobs.map((j) => j.namespace))) {
      const pods = await client.list<Pod>(PODS, ns, selector, signal);
      pods.items.forEach((p) => onPod(p));
    }
    // Drain while the pod informer still runs: tails learn that their containers have ended.
    const open = await follower.drain(plan.drainMs);
    inner.abort(new Error('done'));
    if (open > 0) {
      out.warn(
        `${open} log streams were still open ${Math.round(plan.drainMs / 1000)} s after the Jobs finished; their last lines may be missing`,
      );
    }

    const jobs = summaries();
    const deletedJobs = [...tracked.values()].filter((t) => t.deleted);
    if (deletedJobs.length > 0) {
      outcome = {
        kind: 'infra-error',
        jobs,
        message: `${deletedJobs.map((t) => `job/${t.plan.name}`).join(', ')} deleted by someone else before it finished`,
      };
    } else {
      const failed = jobs.filter((j) => j.result === 'Failed');
      outcome =
        failed.length === 0
          ? { kind: 'succeeded', jobs }
          : {
              kind: 'failed',
              jobs,
              message: `${failed.map((j) => `job/${j.name}`).join(', ')} failed`,
            };
    }
  } catch (err) {
    inner.abort(err);
    await follower.stop();
    const reason: unknown = signal.aborted ? signal.reason : err;
    const jobs = summaries();
    if (reason instanceof CancelledError)
      outcome = { kind: 'cancelled', jobs, signal: reason.signal };
    else if (reason instanceof RunTimeoutError) {
      const running = jobs.filter((j) => j.result === 'Running').map((j) => `job/${j.name}`);
      outcome = {
        kind: 'timed-out',
        jobs,
        message: `${reason.message}${running.length ? ` while ${running.join(', ')} still ran` : ''}`,
      };
    } else if (err instanceof InputError || ![...tracked.values()].some((t) => t.created)) {
      // Nothing was created: no outcome to report, only the error (exit 2 or 3).
      throw err;
    } else outcome = { kind: 'infra-error', jobs, message: messageOf(err) };
  } finally {
    inner.abort(new Error('done'));
    await Promise.allSettled(informers);
    const created = [...tracked.values()].flatMap((t) =>
      t.created
        ? [{ namespace: t.plan.namespace, name: t.plan.name, uid: t.created.metadata?.uid }]
        : [],
    );
    if (created.length > 0) await cleanUp(deps, plan, created, outcome);
  }
  return outcome;
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

/** Rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Existing Jobs with the plan's names. Finished ones, and running ones of this same run (an
 * earlier attempt of the same CI step), will be replaced; a running one of another run is a
 * conflict (InfraError, exit 3) unless `plan.replace`.
 */
async function findStaleJobs(
  { client }: RunDeps,
  plan: RunPlan,
  signal: AbortSignal,
): Promise<Job[]> {
  const existing = await Promise.all(
    plan.jobs.map((j) => client.get<Job>(JOBS, j.namespace, j.name, signal)),
  );
  const conflicts: string[] = [];
  const stale: Job[] = [];
  existing.forEach((job, i) => {
    if (!job) return;
    const t = plan.jobs[i]!;
    const otherRun = job.metadata?.labels?.[LABEL_RUN_ID];
    if (!isJobFinished(job) && otherRun !== plan.runId && !plan.replace) {
      const owner = otherRun ? `run ${otherRun}` : 'not created by kubestep';
      conflicts.push(
        `job/${t.name} in namespace ${t.namespace} is still running (${owner}, created ${job.metadata?.creationTimestamp ?? '?'}): ` +
          `wait for it, delete it (kubectl delete job ${t.name} -n ${t.namespace}), pass --replace, or give this run's Job another name (e.g. ${t.name}-\${RUN_ID})`,
      );
    }
    stale.push(job);
  });
  if (conflicts.length > 0) throw new InfraError(conflicts.join('\n'));
  return stale;
}

/** Server-side dry-run of every Job: schema, admission and quota errors before anything exists. */
async function dryRunCreate(
  { client }: RunDeps,
  jobs: TestJob[],
  signal: AbortSignal,
): Promise<void> {
  const problems: string[] = [];
  let infra: Error | undefined;
  await Promise.all(
    jobs.map(async (t) => {
      try {
        await client.create(JOBS, t.namespace, t.job, signal, { dryRun: true });
      } catch (err) {
        if (isStatus(err, 409)) return; // exists: validation passed; the stale Job is replaced below
        if (err instanceof KubeApiError && (err.code === 400 || err.code === 422)) {
          problems.push(
            `${describeOrigin(t.origin)}: the API server rejects job/${t.name}: ${err.message.replace(/^[^:]*: /, '')}`,
          );
        } else infra ??= err instanceof Error ? err : new InfraError(String(err));
      }
    }),
  );
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  if (infra) throw infra;
}

async function createJob(
  { client, out }: RunDeps,
  runId: string,
  t: TestJob,
  signal: AbortSignal,
): Promise<Job> {
  try {
    return await client.create(JOBS, t.namespace, t.job, signal);
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
    // AlreadyExists: our own create may have succeeded before its answer was lost, and was retried.
    const job = await client.get<Job>(JOBS, t.namespace, t.name, signal);
    if (job?.metadata?.labels?.[LABEL_RUN_ID] === runId && !job.metadata.deletionTimestamp) {
      out.debug(`job/${t.name} exists already with this run id: using it`);
      return job;
    }
    throw new InfraError(
      `job/${t.name} in namespace ${t.namespace} was created by someone else meanwhile: give this run's Job a unique name, e.g. ${t.name}-\${RUN_ID}`,
      { cause: err },
    );
  }
}

/** A Job to delete: uid, when known, keeps a newer Job of the same name safe. */
interface DeleteTarget {
  namespace: string;
  name: string;
  uid?: string | undefined;
  note: string;
}

/**
 * Deletes Jobs with their pods (propagationPolicy Foreground) and waits until they are gone,
 * at most `graceMs`. Throws InfraError when they are still there after that.
 */
async function deleteJobs(
  deps: RunDeps,
  targets: DeleteTarget[],
  graceMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = deps.now() + graceMs;
  await Promise.all(
    targets.map(async (t) => {
      deps.out.info(t.note);
      await deps.client.delete(
        JOBS,
        t.namespace,
        t.name,
        { propagationPolicy: 'Foreground', uid: t.uid },
        signal,
      );
      await waitUntilGone(deps, t, deadline, signal);
    }),
  );
}

async function waitUntilGone(
  deps: RunDeps,
  t: DeleteTarget,
  deadline: number,
  signal: AbortSignal,
): Promise<void> {
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const job = await deps.client.get<Job>(JOBS, t.namespace, t.name, signal);
    if (!job || (t.uid && job.metadata?.uid !== t.uid)) return;
    if (deps.now() >= deadline) {
      throw new InfraError(
        `job/${t.name} in namespace ${t.namespace} is still being deleted (its pods are terminating): try again shortly, or raise --grace`,
      );
    }
    await sleep(delay, signal);
  }
}

/** Deletes the Jobs this run created, per the cleanup policy, within the grace period. */
async function cleanUp(
  deps: RunDeps,
  plan: RunPlan,
  created: { namespace: string; name: string; uid: string | undefined }[],
  outcome: RunOutcome | undefined,
): Promise<void> {
  const keep =
    plan.cleanup === 'never' || (plan.cleanup === 'on-success' && outcome?.kind !== 'succeeded');
  if (keep) {
    deps.out.info(
      `keeping ${created.length} Jobs (--cleanup ${plan.cleanup}); delete them with: kubectl delete jobs -l ${runSelector(plan.runId)} --cascade=foreground -n ${[...new Set(created.map((c) => c.namespace))].join(',')}`,
    );
    return;
  }
  // Cleanup has its own deadline: it must run even when the run's signal has aborted.
  const signal = AbortSignal.timeout(plan.graceMs);
  const targets = created.map((c) => ({
    namespace: c.namespace,
    name: c.name,
    uid: c.uid,
    note: `deleting job/${c.name}`,
  }));
  try {
    await deleteJobs(deps, targets, plan.graceMs, signal);
  } catch (err) {
    const what = signal.aborted
      ? `not all gone after --grace ${Math.round(plan.graceMs / 1000)} s (deletion was requested and continues in the cluster)`
      : messageOf(err);
    deps.out.warn(
      `cleanup: ${what}; check with: kubectl get jobs,pods -l ${runSelector(plan.runId)} -A`,
    );
  }
}
