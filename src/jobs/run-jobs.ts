// The test Jobs of a run: create, follow logs, wait for Complete or Failed. Imperative shell over
// KubeClient; decisions come from the pure modules. Preflight and teardown are in run/.
import { CancelledError, InputError, messageOf, RunTimeoutError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { JOBS, PODS, type Resource } from '../kube/resources.js';
import { ownedBy } from '../manifests/deps.js';
import { createForRun } from '../run/create.js';
import type { Ledger } from '../run/teardown.js';
import { runInformer } from '../kube/informer.js';
import type { Job, KubeObject, Pod } from '../kube/types.js';
import { LogFollower, type LogSink } from '../logs/follower.js';
import { LABEL_RUN_ID, type TestJob } from '../manifests/jobs.js';
import { summarizeJob, type JobSummary } from '../report/summary.js';
import { isJobFinished, jobState } from './status.js';

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
export interface JobsPlan {
  runId: string;
  jobs: readonly TestJob[];
  /** How long to wait for log streams to end after the Jobs finished, ms. */
  drainMs: number;
  /** The run's anchor Job per namespace; each test Job becomes its dependent. */
  anchors: ReadonlyMap<string, Job>;
  /** Rejects when the run must stop (a dependency broke); the outcome is then an infra-error. */
  watchdog?: Promise<never> | undefined;
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
 * Creates the plan's Jobs (recording each in `ledger`), follows their logs and waits until each is
 * Complete or Failed; returns the outcome. An error before any Job was created is thrown (the
 * caller maps it to an exit code). `signal` aborts with {@link CancelledError} or
 * {@link RunTimeoutError} as its reason. Deleting the Jobs is the caller's (see run/teardown.ts).
 */
export async function runJobs(
  deps: RunDeps,
  plan: JobsPlan,
  ledger: Ledger,
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
        const anchor = plan.anchors.get(t.plan.namespace);
        const body = anchor ? ownedBy(t.plan.job, anchor) : t.plan.job;
        const { object, adopted } = await createForRun(
          client,
          JOBS,
          t.plan.namespace,
          body,
          plan.runId,
          signal,
        );
        if (adopted) out.debug(`job/${t.plan.name} exists already with this run id: using it`);
        t.created = object;
        ledger.add(JOBS, t.created, 'test');
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

    await raceAbort(plan.watchdog ? Promise.race([finished, plan.watchdog]) : finished, signal);

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
