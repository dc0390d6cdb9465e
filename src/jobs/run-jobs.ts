// The test Jobs of a run: create, follow logs, wait for Complete or Failed. Imperative shell over
// KubeApi; decisions come from the pure modules. Preflight and teardown are in run/.
import {
  CancelledError,
  InfraError,
  InputError,
  messageOf,
  RunTimeoutError,
} from '../core/errors.js';
import { raceAbort, sleep } from '../core/abort.js';
import type { KubeApi, ListOptions } from '../kube/api.js';
import { JOBS, PODS, type Resource } from '../kube/resources.js';
import { ownedBy } from '../manifests/deps.js';
import { createForRun } from '../objects/create.js';
import type { Ledger } from '../objects/ledger.js';
import { runInformer } from '../kube/informer.js';
import type { Job, KubeObject, Pod } from '../kube/types.js';
import { LogFollower } from '../logs/follower.js';
import type { Output } from '../core/output.js';
import type { JobSummary, Outcome } from '../core/outcome.js';
import { formatDuration } from '../core/format.js';
import { LABEL_RUN_ID, type TestJob } from '../manifests/jobs.js';
import { ProblemClock, testPodProblem, type StuckGraces } from '../pods/problems.js';
import { printEvents } from '../objects/events.js';
import { stuckHint, summarizeJob, waitingStatus, type StuckPod } from './summary.js';
import { finishedBefore, isJobFinished, jobState } from './status.js';

/** The injected world of a run. */
export interface RunDeps {
  client: KubeApi;
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
  /** How long a test pod may stay stuck (image pull, unschedulable, config error), per reason. */
  graces: StuckGraces;
  /**
   * Follow Jobs that exist already (`kubestep wait`) instead of creating `jobs`: `jobs` then
   * holds the named ones (their `job` field unused), or nothing with a selector.
   */
  existing?: ExistingJobs | undefined;
}

/** Jobs made by someone else, to wait for (`kubestep wait`). */
export interface ExistingJobs {
  namespace: string;
  /** A label selector of the Jobs; without it, the Jobs of `JobsPlan.jobs` by name. */
  selector?: string | undefined;
  /** How long the Jobs may take to appear, ms; then InfraError (exit 3). */
  appearTimeoutMs: number;
}

/** A Job to wait for by name, as a plan entry (`kubestep wait job/NAME`). */
export function existingJob(namespace: string, name: string): TestJob {
  return {
    origin: { source: '(cluster)', index: 1, line: 1 },
    name,
    namespace,
    job: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace } },
  };
}

interface Tracked {
  plan: TestJob;
  created?: Job;
  job?: Job;
  deleted: boolean;
  pods: Map<string, Pod>;
  /** Names of pods deleted before they ended while the Job ran: not by kubestep. */
  deletedPods: Set<string>;
  stuck?: StuckPod | undefined;
}

/** `kubestep wait` warns about a Job that had finished this long before it started, ms. */
const STALE_RESULT_MS = 60_000;

/** How often stuck pods and the status line are looked at again without any event, ms. */
const TICK_MS = 1_000;

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
): Promise<Outcome> {
  const { client, out } = deps;
  const startedAt = deps.now();
  const tracked = new Map<string, Tracked>(
    plan.jobs.map((p) => [
      key(p.namespace, p.name),
      { plan: p, deleted: false, pods: new Map(), deletedPods: new Set<string>() },
    ]),
  );
  // Since when each pod has had its current problem: the start of its grace.
  const problems = new ProblemClock();
  const inner = new AbortController();
  const innerSignal = AbortSignal.any([signal, inner.signal]);
  const follower = new LogFollower(client, out.logs, signal);
  const informers: Promise<void>[] = [];
  let outcome: Outcome | undefined;

  const summaries = (): JobSummary[] =>
    [...tracked.values()].map((t) =>
      summarizeJob(
        t.plan.name,
        t.plan.namespace,
        t.job ?? t.created,
        [...t.pods.values()],
        { startedAtMs: startedAt, nowMs: deps.now() },
        { deletedPods: t.deletedPods, stuck: t.stuck },
      ),
    );
  let ticker: NodeJS.Timeout | undefined;

  try {
    // Watch before creating, so that no pod or condition can be missed.
    let settle!: () => void;
    let fail!: (err: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => ((settle = resolve), (fail = reject)));
    // An informer may fail before anyone awaits `finished`: that must not be an unhandled rejection.
    finished.catch(() => undefined);
    let settled = false;
    // While a list is applied: a selector's Jobs are all adopted before any check settles the run.
    let listing = false;
    let appeared!: () => void;
    const allAppeared = new Promise<void>((resolve) => (appeared = resolve));
    const check = () => {
      if (listing) return;
      const all = [...tracked.values()];
      if (all.length > 0 && all.every((t) => t.created)) appeared();
      if (all.some((t) => t.stuck)) settle();
      if (
        all.length > 0 &&
        all.every((t) => t.created && (t.deleted || (t.job && isJobFinished(t.job))))
      ) {
        settled = true;
        settle();
      }
    };
    // A pod that cannot start ends the run once its problem outlived its grace.
    const checkStuck = () => {
      const now = deps.now();
      for (const t of tracked.values()) {
        if (t.stuck || !t.job || isJobFinished(t.job)) continue;
        for (const pod of t.pods.values()) {
          const uid = pod.metadata?.uid ?? '';
          const problem = testPodProblem(pod, plan.graces);
          if (!problem) continue;
          const seen = problems.startedMs(uid, problem.reason, now);
          if (now - seen >= problem.graceMs) {
            t.stuck = {
              pod: pod.metadata?.name ?? '?',
              reason: problem.reason,
              message: problem.message,
            };
            if (problem.graceMs > 0) t.stuck.message += ` (for ${formatDuration(now - seen)})`;
            break;
          }
        }
      }
      check();
    };
    const onJob = (job: Job, deleted = false) => {
      const k = key(job.metadata?.namespace ?? '', job.metadata?.name ?? '');
      if (plan.existing && !deleted) adopt(k, job);
      const t = tracked.get(k);
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
      const uid = pod.metadata.uid;
      t.pods.set(uid, pod);
      // Deleted before it ended, while the Job ran: not by kubestep (it deletes only afterwards).
      const phase = pod.status?.phase;
      const ended = phase === 'Succeeded' || phase === 'Failed';
      const name = pod.metadata.name ?? '';
      const deleting = deleted || Boolean(pod.metadata.deletionTimestamp);
      if (deleting && !ended && !(t.job && isJobFinished(t.job)) && !t.deletedPods.has(name)) {
        t.deletedPods.add(name);
        out.warn(
          `pod/${name} of job/${t.plan.name} is being deleted before it ended (not by kubestep)`,
        );
      }
      const problem = deleted ? undefined : testPodProblem(pod, plan.graces);
      problems.note(uid, problem?.reason, deps.now());
      follower.update(pod, deleted);
      checkStuck();
    };
    // `kubestep wait`: a Job seen for the first time is the one to follow (named, or matching
    // the selector while the others still run).
    const adopt = (k: string, job: Job) => {
      let t = tracked.get(k);
      if (!t && plan.existing?.selector !== undefined && !settled) {
        const name = job.metadata?.name ?? '';
        t = {
          plan: existingJob(plan.existing.namespace, name),
          deleted: false,
          pods: new Map(),
          deletedPods: new Set<string>(),
        };
        tracked.set(k, t);
      }
      if (!t || t.created) return;
      t.created = job;
      ledger.add(JOBS, job, 'test');
      out.info(`found job/${t.plan.name} in namespace ${t.plan.namespace}`);
      const finishedMs = finishedBefore(job, startedAt - STALE_RESULT_MS);
      if (finishedMs !== undefined) {
        // kubectl apply leaves a finished Job of the same name as it is (its template cannot
        // change): the result would be that of an earlier build.
        out.warn(
          `job/${t.plan.name} finished ${formatDuration(startedAt - finishedMs)} before this wait started: its result may be an earlier build's (kubectl apply does not re-run a finished Job); delete it before applying, or use kubestep run`,
        );
      }
    };
    const selectors = informerSelectors(plan);
    const inform = <T extends KubeObject>(
      res: Resource,
      ns: string,
      on: (o: T, deleted?: boolean) => void,
    ) =>
      runInformer<T>(
        client,
        res,
        ns,
        res === JOBS ? selectors.jobs : selectors.pods,
        {
          onList: (items) => {
            listing = true;
            try {
              items.forEach((o) => on(o));
            } finally {
              listing = false;
            }
            check();
          },
          onEvent: (type, o) => on(o, type === 'DELETED'),
          onReconnect: (why) => out.debug(why),
        },
        innerSignal,
      ).catch(fail);
    const namespaces = plan.existing
      ? [plan.existing.namespace]
      : [...new Set(plan.jobs.map((j) => j.namespace))];
    for (const ns of namespaces) {
      informers.push(inform<Job>(JOBS, ns, onJob), inform<Pod>(PODS, ns, onPod));
    }

    // allSettled: every create has ended (and is recorded for cleanup) before an error is thrown.
    const createJobs = async () => {
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
    };
    if (plan.existing) {
      await waitToAppear(plan.existing, tracked, allAppeared, finished, signal);
    } else {
      await createJobs();
    }

    // Grace periods pass without any event: look again every second; keep the status current.
    ticker = setInterval(() => {
      checkStuck();
      out.status(waitingStatus(summaries(), deps.now() - startedAt));
    }, TICK_MS);
    await raceAbort(plan.watchdog ? Promise.race([finished, plan.watchdog]) : finished, signal);
    clearInterval(ticker);

    const stuck = [...tracked.values()].filter((t) => t.stuck);
    if (stuck.length > 0) {
      // The pods will not start: stop following, explain, and leave the rest to the teardown.
      inner.abort(new Error('stuck'));
      await follower.stop();
      const jobs = summaries();
      await explainFailures(deps, tracked, jobs, signal);
      const names = jobs
        .filter((j) => j.result === 'Stuck')
        .map((j) => `job/${j.name} (${j.reason})`);
      return { kind: 'infra-error', jobs, message: `${names.join(', ')} cannot start` };
    }

    // Catch up with the final pod states, so that every container's log is followed.
    for (const ns of namespaces) {
      const pods = await client.list<Pod>(PODS, ns, selectors.pods, signal);
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
    await explainFailures(deps, tracked, jobs, signal);
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
    clearInterval(ticker);
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
    clearInterval(ticker);
    inner.abort(new Error('done'));
    await Promise.allSettled(informers);
  }
  return outcome;
}

/**
 * For each Job that failed or cannot start: its explanation (as an error, an annotation in GitHub
 * Actions) and the recent events of the pod that explains it and of the Job.
 */
async function explainFailures(
  deps: RunDeps,
  tracked: ReadonlyMap<string, Tracked>,
  jobs: readonly JobSummary[],
  signal: AbortSignal,
): Promise<void> {
  for (const j of jobs) {
    if (j.result !== 'Failed' && j.result !== 'Stuck') continue;
    const t = tracked.get(key(j.namespace, j.name));
    deps.out.error(
      `job/${j.name} ${j.result === 'Failed' ? 'failed' : 'cannot start'}`,
      j.result === 'Stuck'
        ? `${j.explanation}\nwhat to do: ${stuckHint(j.reason ?? '')}`
        : j.explanation,
    );
    if (!t) continue;
    const pods = [...t.pods.values()];
    // The stuck pod, else the newest pod that failed, else the newest pod.
    const pod =
      pods.find((p) => p.metadata?.name === t.stuck?.pod) ??
      [...pods].reverse().find((p) => p.status?.phase === 'Failed') ??
      pods.at(-1);
    const subjects = [
      ...(pod ? [{ label: `pod/${pod.metadata?.name}`, object: pod }] : []),
      ...(t.job ? [{ label: `job/${j.name}`, object: t.job }] : []),
    ];
    await printEvents(deps, subjects, signal);
  }
}

/**
 * What the informers watch: the run's Jobs and pods by its run id; for `kubestep wait`, the
 * Jobs by selector or name, and pods by the `job-name` label that the Job controller sets.
 * Source: https://kubernetes.io/docs/reference/labels-annotations-taints/#job-name
 */
function informerSelectors(plan: JobsPlan): { jobs: ListOptions; pods: ListOptions } {
  const e = plan.existing;
  if (!e) {
    const bySelf = { labelSelector: `${LABEL_RUN_ID}=${plan.runId}` };
    return { jobs: bySelf, pods: bySelf };
  }
  if (e.selector !== undefined)
    return { jobs: { labelSelector: e.selector }, pods: { labelSelector: 'job-name' } };
  const names = plan.jobs.map((j) => j.name);
  return {
    jobs: names.length === 1 ? { fieldSelector: `metadata.name=${names[0]}` } : {},
    pods: { labelSelector: `job-name in (${names.join(',')})` },
  };
}

/**
 * Waits until every named Job (or, with a selector, at least one) has been seen, at most
 * `appearTimeoutMs`; throws InfraError naming what did not appear, or what `failed` rejects with
 * (an informer failed), or the signal's reason.
 */
async function waitToAppear(
  e: ExistingJobs,
  tracked: ReadonlyMap<string, Tracked>,
  appeared: Promise<void>,
  failed: Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const timer = new AbortController();
  const late = sleep(e.appearTimeoutMs, AbortSignal.any([signal, timer.signal])).then(
    () => 'late' as const,
    () => 'aborted' as const,
  );
  try {
    const first = await raceAbort(
      Promise.race([appeared, failed.then(() => undefined), late]),
      signal,
    );
    if (first !== 'late') return;
  } finally {
    timer.abort();
  }
  const missing = [...tracked.values()].filter((t) => !t.created).map((t) => `job/${t.plan.name}`);
  const what =
    e.selector !== undefined ? `no Job matching ${JSON.stringify(e.selector)}` : missing.join(', ');
  throw new InfraError(
    `${what} did not appear in namespace ${e.namespace} within ${formatDuration(e.appearTimeoutMs)}: check the name${e.selector !== undefined ? ' (selector)' : ''} and the namespace (-n), that the step creating it ran, or raise --appear-timeout`,
  );
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}
