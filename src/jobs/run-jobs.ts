// The test Jobs of a run: create them (or find them, for `wait`), feed the informers' events to
// the tracker (tracker.ts decides), follow logs, and race the result against the signal.
// Imperative shell over KubeApi. Preflight and teardown are in run/.
import { raceAbort, sleep } from '../core/abort.js';
import { InfraError, messageOf } from '../core/errors.js';
import { formatDuration } from '../core/format.js';
import type { Outcome } from '../core/outcome.js';
import { eventsOf } from '../kube/events.js';
import { runInformer } from '../kube/informer.js';
import { JOBS, PODS, type Resource } from '../kube/resources.js';
import type { Job, KubeObject, Pod } from '../kube/types.js';
import type { World } from '../kube/world.js';
import { LogFollower } from '../logs/follower.js';
import { ownedBy } from '../manifests/deps.js';
import type { TestJob } from '../manifests/jobs.js';
import { createForRun } from '../objects/create.js';
import { printEvents } from '../objects/events.js';
import type { Ledger } from '../objects/ledger.js';
import type { StuckGraces } from '../pods/problems.js';
import { COLLECTOR, hasCollector, SIDECAR_STOP_GRACE_S } from '../pods/sidecars.js';
import { Collection, type ArtifactsPlan } from './collection.js';
import { informerSelectors, JobTracker, type ExistingJobs, type TrackerNote } from './tracker.js';
import { withLogCounts } from './summary.js';

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
  /** The test pods' regular containers that are sidecars (--sidecar). */
  sidecars?: readonly string[] | undefined;
  /** Collect the test pods' artifacts (--artifacts): the Jobs were made with withArtifacts. */
  artifacts?: ArtifactsPlan | undefined;
  /**
   * Follow Jobs that exist already (`kubestep wait`) instead of creating `jobs`: `jobs` then
   * holds the named ones (their `job` field unused), or nothing with a selector.
   */
  existing?: ExistingJobs | undefined;
}

/** How long the collectors of stopped pods may take to send their artifacts, ms. */
const ARTIFACTS_DRAIN_MS = 120_000;

/** How often stuck pods and the status line are looked at again without any event, ms. */
const TICK_MS = 1_000;

/**
 * Creates the plan's Jobs (recording each in `ledger`), follows their logs and waits until each is
 * Complete or Failed, or a pod cannot start; returns the outcome. An error before any Job was
 * created is thrown (the caller maps it with outcomeOfError). `signal` aborts with
 * CancelledError or RunTimeoutError as its reason. Deleting the Jobs is the caller's (see
 * run/teardown.ts).
 */
export async function runJobs(
  world: World,
  plan: JobsPlan,
  ledger: Ledger,
  signal: AbortSignal,
): Promise<Outcome> {
  const { client, out } = world;
  const tracker = new JobTracker(plan, world.now());
  const inner = new AbortController();
  const innerSignal = AbortSignal.any([signal, inner.signal]);
  const collection = plan.artifacts ? await Collection.open(world, plan.artifacts) : undefined;
  const follower = new LogFollower(client, collection?.sink(out.logs) ?? out.logs, signal);
  const counted = (o: Outcome): Outcome => countedLines(o, follower);
  let done!: () => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
  // An informer may fail before anyone awaits `finished`: that must not be an unhandled rejection.
  finished.catch(() => undefined);
  let appeared!: () => void;
  const allAppeared = new Promise<void>((resolve) => (appeared = resolve));
  const ending = new Set<Promise<void>>();
  const apply = (notes: TrackerNote[]) => {
    for (const n of notes) {
      if (n.kind === 'info') out.info(n.message);
      else if (n.kind === 'warn') out.warn(n.message);
      else if (n.kind === 'follow') {
        follower.update(n.pod, n.deleted);
        collection?.seen(n.pod);
      } else if (n.kind === 'collect') collection?.fetch(n.pod, innerSignal);
      else if (n.kind === 'end-pod') {
        const p = endSidecarPod(world, n.pod, collection, innerSignal).finally(() =>
          ending.delete(p),
        );
        ending.add(p);
      } else ledger.add(JOBS, n.job, 'test');
    }
  };
  const check = () => {
    const p = tracker.progress();
    if (p.appeared) appeared();
    if (p.stuck || p.settled) done();
  };
  const feed = (o: KubeObject, res: Resource, deleted: boolean) =>
    apply(
      res === JOBS
        ? tracker.onJob(o, deleted, world.now())
        : tracker.onPod(o, deleted, world.now()),
    );
  // Watch before creating, so that no pod or condition can be missed.
  const selectors = informerSelectors(plan);
  const namespaces = plan.existing
    ? [plan.existing.namespace]
    : [...new Set(plan.jobs.map((j) => j.namespace))];
  const informers = namespaces.flatMap((ns) =>
    [JOBS, PODS].map((res) =>
      runInformer<KubeObject>(
        client,
        res,
        ns,
        res === JOBS ? selectors.jobs : selectors.pods,
        {
          // A selector's Jobs are all adopted before any check settles the run.
          onList: (items) => (items.forEach((o) => feed(o, res, false)), check()),
          onEvent: (type, o) => (feed(o, res, type === 'DELETED'), check()),
          onReconnect: (why) => out.debug(why),
        },
        innerSignal,
        // Nothing of the run's test Jobs existed when its anchor was made: watch from there.
        { since: plan.existing ? undefined : plan.anchors.get(ns)?.metadata?.resourceVersion },
      ).catch(fail),
    ),
  );
  let ticker: NodeJS.Timeout | undefined;
  try {
    await collection?.prepare(namespaces, signal);
    if (plan.existing) {
      await waitToAppear(plan.existing, tracker, allAppeared, finished, signal);
    } else {
      // Events that came before a Job's create was answered are replayed by the tracker.
      await createJobs(world, plan, tracker, ledger, apply, signal);
      check();
    }
    // Grace periods pass without any event: look again every second; keep the status current.
    let reading = false;
    ticker = setInterval(() => {
      apply(tracker.tick(world.now()));
      check();
      out.status(tracker.status(world.now()));
      // What only events tell (no pod can be created, a volume cannot be mounted): one read at a
      // time, each object at most every 5 s, only while something is missing.
      const due = reading ? [] : tracker.eventChecks(world.now());
      if (due.length === 0) return;
      reading = true;
      void Promise.all(
        due.map(async (o) => {
          const { events, error } = await eventsOf(client, o, innerSignal);
          if (error) out.debug(`events of ${o.kind ?? 'object'}/${o.metadata?.name}: ${error}`);
          else apply(tracker.onEvents(o, events, world.now()));
        }),
      ).finally(() => {
        reading = false;
        check();
      });
    }, TICK_MS);
    await raceAbort(plan.watchdog ? Promise.race([finished, plan.watchdog]) : finished, signal);
    clearInterval(ticker);
    if (tracker.progress().stuck) {
      // The pods will not start: stop following, explain, and leave the rest to the teardown.
      inner.abort(new Error('stuck'));
      await follower.stop();
    } else {
      // Catch up with the final pod states, so that every container's log is followed; drain
      // while the pod informer still runs: tails learn that their containers have ended.
      // The collectors send once their pods are stopped; they are read to the end below.
      await collection?.fetchesEnded();
      await collection?.stop(tracker.decidedJobs(), signal);
      // Unless the watch has shown every pod of every Job to its end (the usual case).
      if (!tracker.allPodsSeen()) {
        for (const ns of namespaces) {
          const pods = await client.list<Pod>(PODS, ns, selectors.pods, signal);
          pods.items.forEach((p) => apply(tracker.onPod(p, false, world.now())));
        }
      }
      // Sidecars still running (their pods are deleted with the Job) are not waited for.
      const drainMs = collection ? Math.max(plan.drainMs, ARTIFACTS_DRAIN_MS) : plan.drainMs;
      const open = await follower.drain(drainMs, tracker.runningSidecars());
      await collection?.report();
      if (open > 0) {
        out.warn(
          `${open} log streams were still open ${Math.round(plan.drainMs / 1000)} s after the Jobs finished; their last lines may be missing`,
        );
      }
    }
    let outcome = counted(tracker.outcome(world.now()));
    // What the artifacts tell: JUnit reports and $KUBESTEP_OUTPUT values.
    if (collection && !tracker.progress().stuck) outcome = await collection.apply(outcome);
    markSidecarPods(tracker, ledger);
    markEndedPods(tracker, ledger);
    await explain(world, tracker, outcome, signal);
    return outcome;
  } catch (err) {
    clearInterval(ticker);
    inner.abort(err);
    await follower.stop();
    const outcome = tracker.stoppedOutcome(
      err,
      signal.aborted ? signal.reason : undefined,
      world.now(),
    );
    if (!outcome) throw err;
    // A Job still running at the timeout: its events say why (a signal of its own: the run's
    // has been aborted); what its pods' collectors hold so far is fetched.
    if (outcome.kind !== 'timed-out') return counted(outcome);
    await explain(world, tracker, outcome, AbortSignal.timeout(5_000));
    const o = counted(outcome);
    return collection ? collection.atTimeout(tracker.runningPods(), o, TIMEOUT_FETCH_MS) : o;
  } finally {
    clearInterval(ticker);
    inner.abort(new Error('done'));
    await Promise.allSettled([...informers, ...ending]);
    await collection?.close();
  }
}

/** At --timeout, how long the collectors' artifacts may take to arrive (ms). */
const TIMEOUT_FETCH_MS = 20_000;

/** `o` with the lines followed per container (the artifacts collector's are not log lines). */
function countedLines(o: Outcome, follower: LogFollower): Outcome {
  const counts = follower.logCounts().filter((c) => c.container !== COLLECTOR);
  return { ...o, jobs: withLogCounts(o.jobs, counts) };
}

/**
 * Deletes `pod`, whose main containers ended while its sidecars run and whose Job goes on, so that
 * the Job controller makes the next pod (the tracker counts the deleted pod's result); the
 * sidecars get SIDECAR_STOP_GRACE_S. Its artifacts are fetched first (the collector serves them
 * while the pod runs). A failure is a warning: the Job then waits for its sidecars.
 */
async function endSidecarPod(
  { client, out }: World,
  pod: Pod,
  collection: Collection | undefined,
  signal: AbortSignal,
): Promise<void> {
  await collection?.fetched(pod);
  const name = pod.metadata?.name ?? '';
  try {
    await client.delete(
      PODS,
      pod.metadata?.namespace,
      name,
      {
        propagationPolicy: 'Background',
        uid: pod.metadata?.uid,
        // An artifacts collector sends within the pod's own grace period.
        gracePeriodSeconds: hasCollector(pod) ? undefined : SIDECAR_STOP_GRACE_S,
      },
      signal,
    );
    out.info(`deleting pod/${name} to stop its sidecars; the Job goes on`);
  } catch (err) {
    if (signal.aborted) return;
    out.warn(
      `could not delete pod/${name} to stop its sidecars (${messageOf(err)}): its Job waits for them until --timeout; grant delete on pods (deploy/rbac.yaml)`,
    );
  }
}

/** Tells teardown which pods of each test Job still run sidecars: it stops them right after the Job. */
function markSidecarPods(tracker: JobTracker, ledger: Ledger): void {
  for (const [k, pods] of tracker.sidecarPods()) {
    const item = ledger.items.find(
      (i) => i.res === JOBS && i.stage === 'test' && `${i.namespace}/${i.name}` === k,
    );
    if (item) item.sidecarPods = pods;
  }
}

/** Tells teardown the pods of each finished Job when all are known and ended: it deletes them by name. */
function markEndedPods(tracker: JobTracker, ledger: Ledger): void {
  for (const [k, pods] of tracker.endedPods()) {
    const item = ledger.items.find(
      (i) => i.res === JOBS && i.stage === 'test' && `${i.namespace}/${i.name}` === k,
    );
    if (item)
      item.endedPods = pods.map((p) => ({
        name: p.metadata?.name ?? '',
        uid: p.metadata?.uid ?? '',
      }));
  }
}

/**
 * Creates every Job of the plan as a dependent of its namespace's anchor; tolerates a create whose
 * answer was lost (createForRun). allSettled: every create has ended (and is recorded for
 * cleanup) before an error is thrown.
 */
async function createJobs(
  { client, out, now }: World,
  plan: JobsPlan,
  tracker: JobTracker,
  ledger: Ledger,
  apply: (notes: TrackerNote[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const creates = await Promise.allSettled(
    plan.jobs.map(async (j) => {
      const anchor = plan.anchors.get(j.namespace);
      const body = anchor ? ownedBy(j.job, anchor) : j.job;
      const { object, adopted } = await createForRun(
        client,
        JOBS,
        j.namespace,
        body,
        plan.runId,
        signal,
      );
      ledger.add(JOBS, object, 'test');
      apply(tracker.created(j, object, now()));
      if (adopted) {
        out.debug(`job/${j.name} exists already with this run id: using it`);
        // Its pods may be older than the watch: read them once.
        const pods = await client.list<Pod>(
          PODS,
          j.namespace,
          informerSelectors(plan).pods,
          signal,
        );
        apply(pods.items.flatMap((p) => tracker.onPod(p, false, now())));
      }
      out.info(`created job/${j.name} in namespace ${j.namespace}`);
    }),
  );
  const createError = creates.find((c) => c.status === 'rejected');
  if (createError) throw createError.reason;
}

/**
 * For each Job that failed or cannot start: its explanation (as an error, an annotation in GitHub
 * Actions) and the recent events of the pod that explains it and of the Job.
 */
async function explain(
  world: World,
  tracker: JobTracker,
  outcome: Outcome,
  signal: AbortSignal,
): Promise<void> {
  for (const e of tracker.explanations(outcome.jobs, outcome.kind === 'timed-out')) {
    world.out.error(e.title, e.message);
    await printEvents(world, e.subjects, signal);
  }
}

/**
 * Waits until every named Job (or, with a selector, at least one) has been seen, at most
 * `appearTimeoutMs`; throws InfraError naming what did not appear, or what `failed` rejects with
 * (an informer failed), or the signal's reason.
 */
async function waitToAppear(
  e: ExistingJobs,
  tracker: JobTracker,
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
  const what =
    e.selector !== undefined
      ? `no Job matching ${JSON.stringify(e.selector)}`
      : tracker.missing().join(', ');
  throw new InfraError(
    `${what} did not appear in namespace ${e.namespace} within ${formatDuration(e.appearTimeoutMs)}: check the name${e.selector !== undefined ? ' (selector)' : ''} and the namespace (-n), that the step creating it ran, or raise --appear-timeout`,
  );
}
