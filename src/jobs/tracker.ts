// Everything that decides about the test Jobs of a run: which Jobs and pods are ours, which
// containers to follow, stuck pods and their graces, Jobs deleted by someone else, when the run is
// settled, the summaries and the outcome. Pure: Job and pod events and `nowMs` in, notes (lines to
// print, pods to follow, Jobs adopted) and verdicts out. run-jobs.ts is the shell around it.
import { formatDuration } from '../core/format.js';
import { CancelledError, InputError, messageOf, RunTimeoutError } from '../core/errors.js';
import { cancelled, type JobSummary, type Outcome } from '../core/outcome.js';
import type { ListOptions } from '../kube/api.js';
import type { Job, KubeEvent, KubeObject, Pod } from '../kube/types.js';
import { LABEL_RUN_ID, type TestJob } from '../manifests/jobs.js';
import {
  isBeingCreated,
  mountFailureOf,
  ProblemClock,
  testPodProblem,
  type MountFailure,
  type StuckGraces,
} from '../pods/problems.js';
import { COLLECTOR, mainsEnded, sidecarsOf, type MainsEnded } from '../pods/sidecars.js';
import { finishedBefore, isJobFinished, jobState } from './status.js';
import {
  podResults,
  stuckHint,
  summarizeJob,
  waitingStatus,
  type StuckPod,
  type Verdict,
} from './summary.js';
import { controllerOf } from '../kube/selectors.js';

/** Jobs made by someone else, to wait for (`kubestep wait`). */
export interface ExistingJobs {
  namespace: string;
  /** A label selector of the Jobs; without it, the Jobs of the plan by name. */
  selector?: string | undefined;
  /** How long the Jobs may take to appear, ms; then InfraError (exit 3). */
  appearTimeoutMs: number;
}

/** What the tracker is told at the start. */
export interface TrackerPlan {
  runId: string;
  /** The Jobs to create, or (`existing`) the named Jobs to wait for; empty with a selector. */
  jobs: readonly TestJob[];
  /** How long a test pod may stay stuck (image pull, unschedulable, config error), per reason. */
  graces: StuckGraces;
  existing?: ExistingJobs | undefined;
  /** Regular containers that are sidecars, by name (`--sidecar`); see pods/sidecars.ts. */
  sidecars?: readonly string[] | undefined;
}

/** What the shell does for the tracker: print, follow a pod's containers, record an adopted Job. */
export type TrackerNote =
  | { kind: 'info'; message: string }
  | { kind: 'warn'; message: string }
  /** Follow (or update, or end) the tails of this pod's containers. */
  | { kind: 'follow'; pod: Pod; deleted: boolean }
  /** `kubestep wait` found a Job to follow: record it (for `--cleanup`). */
  | { kind: 'adopted'; job: Job }
  /**
   * Delete this pod: its main containers have ended, its sidecars run on, and the Job goes on
   * (a retry, or more completions); the Job controller replaces it.
   */
  | { kind: 'end-pod'; pod: Pod }
  /**
   * Fetch this pod's artifacts now: its main containers have ended while its collector runs.
   * Comes before the pod's `end-pod` note and before the run settles.
   */
  | { kind: 'collect'; pod: Pod };

/** Where the run stands after the events so far. */
export interface Progress {
  /** Every Job of the plan exists (for `wait`: was seen; with a selector, at least one). */
  appeared: boolean;
  /** A pod of a running Job has been stuck for longer than its grace. */
  stuck: boolean;
  /** Every Job is Complete, Failed or was deleted by someone else. */
  settled: boolean;
}

/** A failed or stuck Job to explain: one sentence, and the objects whose events tell more. */
export interface Explanation {
  title: string;
  message: string;
  subjects: { label: string; object: KubeObject }[];
}

interface Tracked {
  plan: TestJob;
  created?: Job;
  job?: Job;
  deleted: boolean;
  pods: Map<string, Pod>;
  /** Names of pods deleted before they ended while the Job ran: not by kubestep. */
  deletedPods: Set<string>;
  /**
   * Pods seen being deleted before they ended, by name, with when (ms): someone else's doing
   * unless the Job turns out finished within {@link CONTROLLER_WINDOW_MS} (the Job controller
   * deletes the pods still running when a Job fails or completes, and the pods' events may come
   * before the Job's).
   */
  suspects: Map<string, number>;
  /** When kubestep first knew the Job, ms (its own clock). */
  seenMs?: number;
  /** The Job controller cannot create a pod (`FailedCreate` events), since when (ms). */
  failedCreate?: { message: string; sinceMs: number } | undefined;
  stuck?: StuckPod | undefined;
  /** Pods whose main containers ended while sidecars ran, by name: their result is the mains'. */
  mainsEnded: Map<string, MainsEnded>;
  /** Pods kubestep deleted to end their sidecars while the Job went on, by name. */
  ending: Set<string>;
  /** The Job's result from its pods' main containers, when its sidecars keep it from finishing. */
  verdict?: Verdict | undefined;
  /** When `verdict` was reached, ms since the epoch. */
  decidedAtMs?: number | undefined;
}

/** True when the Job has a terminal condition, or its main containers decided it. */
function isDone(t: Tracked): boolean {
  return t.verdict !== undefined || (t.job !== undefined && isJobFinished(t.job));
}

/** How long a Job may have no pod, or a pod stay being created, before its events are read, ms. */
export const EVENTS_AFTER_MS = 5_000;

/** The most objects {@link JobTracker.eventChecks} names at once (the run checks once a second). */
export const EVENT_READS_PER_CHECK = 5;

/** How long after a pod is seen being deleted its Job may turn out finished, ms. */
export const CONTROLLER_WINDOW_MS = 5_000;

/** `kubestep wait` warns about a Job that had finished this long before it started, ms. */
const STALE_RESULT_MS = 60_000;

/** A Job to wait for by name, as a plan entry (`kubestep wait job/NAME`). */
export function existingJob(namespace: string, name: string): TestJob {
  return {
    origin: { source: '(cluster)', index: 1, line: 1 },
    name,
    namespace,
    job: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace } },
  };
}

/**
 * The state of a run's test Jobs. Feed it every Job and pod the informers see
 * ({@link onJob}, {@link onPod}), the Jobs created ({@link created}) and the clock
 * ({@link tick}); act on the notes it returns; read {@link progress} after each batch of events.
 */
export class JobTracker {
  private readonly tracked: Map<string, Tracked>;
  /** Since when each pod has had its current problem: the start of its grace. */
  private readonly problems = new ProblemClock();
  /** Pods being created (ContainerCreating), by uid: since when, ms. */
  private readonly creatingSince = new Map<string, number>();
  /** The newest mount failure of a pod being created, by uid (from its events). */
  private readonly mountFailures = new Map<string, MountFailure>();
  /** When the events of an object were last read, by uid, ms. */
  private readonly lastEventCheck = new Map<string, number>();
  /** Uids of pods seen deleted. */
  private readonly gone = new Set<string>();
  /**
   * Events that came before the create of their Job was recorded ({@link created} replays them):
   * the newest state of each Job and each pod by uid, with whether the pod was deleted.
   */
  private readonly early = {
    jobs: new Map<string, Job>(),
    pods: new Map<string, [Pod, boolean]>(),
  };
  private settled = false;

  /** `startedAtMs`: when the command started (durations, and `wait`'s stale-result warning). */
  constructor(
    private readonly plan: TrackerPlan,
    readonly startedAtMs: number,
  ) {
    this.tracked = new Map(plan.jobs.map((p) => [key(p.namespace, p.name), fresh(p)]));
  }

  /**
   * Records the Job that creating `plan` gave (created, or adopted after a lost answer), and
   * returns the notes of the events about it that came before (the watch can be quicker than the
   * create's answer): the newest state of the Job, and its pods.
   */
  created(plan: TestJob, job: Job, nowMs: number): TrackerNote[] {
    const k = key(plan.namespace, plan.name);
    const t = this.tracked.get(k);
    if (!t) return [];
    t.created = job;
    t.seenMs ??= nowMs;
    const notes: TrackerNote[] = [];
    const early = this.early.jobs.get(job.metadata?.uid ?? '');
    this.early.jobs.delete(job.metadata?.uid ?? '');
    if (early) notes.push(...this.onJob(early, false, nowMs));
    for (const [uid, [pod, deleted]] of this.early.pods) {
      if (controllerOf(pod, 'Job')?.uid !== job.metadata?.uid) continue;
      this.early.pods.delete(uid);
      notes.push(...this.onPod(pod, deleted, nowMs));
    }
    return notes;
  }

  /** True while a Job of the plan is still to be created (events are then kept for it). */
  private creating(): boolean {
    return !this.plan.existing && [...this.tracked.values()].some((t) => !t.created);
  }

  /**
   * Objects whose events tell what the watch does not, to be read (at most every
   * {@link EVENTS_AFTER_MS} each, and at most {@link EVENT_READS_PER_CHECK} at a time, those read
   * longest ago first): a Job that has had no pod for that long (the Job controller's
   * `FailedCreate`), a pod still being created that long (the kubelet's `FailedMount`).
   */
  eventChecks(nowMs: number): KubeObject[] {
    const due: KubeObject[] = [];
    const isDue = (uid: string) => {
      const last = this.lastEventCheck.get(uid);
      return last === undefined || nowMs - last >= EVENTS_AFTER_MS;
    };
    for (const t of this.tracked.values()) {
      const job = t.job ?? t.created;
      if (!job?.metadata?.uid || t.stuck || isDone(t)) continue;
      if (t.pods.size === 0 && t.seenMs !== undefined && nowMs - t.seenMs >= EVENTS_AFTER_MS) {
        if (isDue(job.metadata.uid)) due.push(job);
      }
      for (const pod of t.pods.values()) {
        const uid = pod.metadata?.uid ?? '';
        const since = this.creatingSince.get(uid);
        if (since !== undefined && nowMs - since >= EVENTS_AFTER_MS && isDue(uid)) due.push(pod);
      }
    }
    // At most EVENT_READS_PER_CHECK at a time, those read longest ago first: with many pods
    // waiting in a queue, each is read less often instead of the reads growing with the wait.
    const last = (o: KubeObject) => this.lastEventCheck.get(o.metadata?.uid ?? '') ?? -Infinity;
    const chosen = due.sort((a, b) => last(a) - last(b)).slice(0, EVENT_READS_PER_CHECK);
    for (const o of chosen) this.lastEventCheck.set(o.metadata?.uid ?? '', nowMs);
    return chosen;
  }

  /** The events of an object that {@link eventChecks} named; returns what {@link tick} noted. */
  onEvents(object: KubeObject, events: readonly KubeEvent[], nowMs: number): TrackerNote[] {
    const uid = object.metadata?.uid ?? '';
    for (const t of this.tracked.values()) {
      if ((t.job ?? t.created)?.metadata?.uid === uid) {
        const failed = [...events]
          .reverse()
          .find((e) => e.type === 'Warning' && e.reason === 'FailedCreate');
        if (failed && t.pods.size === 0) {
          t.failedCreate = {
            message: (failed.message ?? '').trim(),
            sinceMs: t.failedCreate?.sinceMs ?? nowMs,
          };
        }
        return this.tick(nowMs);
      }
    }
    const failure = mountFailureOf(events);
    if (failure) this.mountFailures.set(uid, failure);
    else this.mountFailures.delete(uid);
    for (const t of this.tracked.values()) {
      const pod = t.pods.get(uid);
      if (!pod) continue;
      const problem = testPodProblem(pod, this.plan.graces, failure);
      this.problems.note(uid, problem?.reason, nowMs);
    }
    return this.tick(nowMs);
  }

  /** True when some Job of the plan exists (was created, or found by `wait`). */
  anyCreated(): boolean {
    return [...this.tracked.values()].some((t) => t.created);
  }

  /** A Job as a watch or list shows it; `deleted`: a DELETED event. */
  onJob(job: Job, deleted: boolean, _nowMs: number): TrackerNote[] {
    const notes: TrackerNote[] = [];
    const k = key(job.metadata?.namespace ?? '', job.metadata?.name ?? '');
    if (this.plan.existing && !deleted) notes.push(...this.adopt(k, job));
    const t = this.tracked.get(k);
    if (t && !t.created && !deleted && job.metadata?.uid && this.creating())
      this.early.jobs.set(job.metadata.uid, job);
    if (!t?.created || job.metadata?.uid !== t.created.metadata?.uid) return notes;
    const wasFinished = t.job ? isJobFinished(t.job) : false;
    t.job = job;
    if (deleted && !isJobFinished(job) && !t.verdict) {
      t.deleted = true;
      notes.push({
        kind: 'warn',
        message: `job/${t.plan.name} was deleted by someone else while it ran`,
      });
    }
    if (!wasFinished && isJobFinished(job) && !t.verdict) {
      // Pods being deleted meanwhile: the Job controller's surplus pods, not someone else's.
      t.suspects.clear();
      const s = jobState(job);
      const reason = s.phase !== 'running' && s.reason ? ` (${s.reason})` : '';
      const phase = s.phase === 'complete' ? 'Complete' : 'Failed';
      notes.push({ kind: 'info', message: `job/${t.plan.name} ${phase}${reason}` });
    }
    return notes;
  }

  /** A pod as a watch or list shows it; `deleted`: a DELETED event. Pods of other Jobs are ignored. */
  onPod(pod: Pod, deleted: boolean, nowMs: number): TrackerNote[] {
    const owner = controllerOf(pod, 'Job');
    const t =
      owner && [...this.tracked.values()].find((x) => x.created?.metadata?.uid === owner.uid);
    if (!t && owner && pod.metadata?.uid && this.creating())
      this.early.pods.set(pod.metadata.uid, [pod, deleted]);
    if (!t || !pod.metadata?.uid) return [];
    const notes: TrackerNote[] = [];
    const uid = pod.metadata.uid;
    t.pods.set(uid, pod);
    if (deleted) this.gone.add(uid);
    // Deleted before it ended, while the Job ran: not by kubestep (it deletes only afterwards);
    // by someone else unless the Job turns out finished (see Tracked.suspects).
    const phase = pod.status?.phase;
    const ended = phase === 'Succeeded' || phase === 'Failed';
    const name = pod.metadata.name ?? '';
    const deleting = deleted || Boolean(pod.metadata.deletionTimestamp);
    const known = t.deletedPods.has(name) || t.ending.has(name);
    if (deleting && !ended && !isDone(t) && !known) {
      if (!t.suspects.has(name)) t.suspects.set(name, nowMs);
    }
    t.failedCreate = undefined;
    if (!deleted && isBeingCreated(pod)) {
      if (!this.creatingSince.has(uid)) this.creatingSince.set(uid, nowMs);
    } else {
      this.creatingSince.delete(uid);
      this.mountFailures.delete(uid);
    }
    const problem = deleted
      ? undefined
      : testPodProblem(pod, this.plan.graces, this.mountFailures.get(uid));
    this.problems.note(uid, problem?.reason, nowMs);
    notes.push({ kind: 'follow', pod, deleted });
    if (!deleting && !isDone(t)) notes.push(...this.sidecarsCheck(t, pod, nowMs));
    notes.push(...this.tick(nowMs));
    return notes;
  }

  /**
   * A pod whose main containers have ended while its sidecars run: its result is the mains'.
   * Enough such results (with the pods that ended) decide the Job, as the Job controller would
   * from `completions` and `backoffLimit`; otherwise the pod is to be ended, so that the Job goes
   * on. Source: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
   */
  private sidecarsCheck(t: Tracked, pod: Pod, nowMs: number): TrackerNote[] {
    const name = pod.metadata?.name ?? '';
    const job = t.job ?? t.created;
    if (t.mainsEnded.has(name)) return [];
    const m = mainsEnded(
      pod,
      sidecarsOf(pod, this.plan.sidecars ?? [], job?.metadata?.annotations),
    );
    if (!m) return [];
    t.mainsEnded.set(name, m);
    // The artifacts collector is kubestep's own: not worth a word.
    const others = m.running.filter((c) => c !== COLLECTOR);
    const notes: TrackerNote[] = m.running.includes(COLLECTOR) ? [{ kind: 'collect', pod }] : [];
    if (others.length > 0)
      notes.push({
        kind: 'info',
        message: `pod/${name}: its main containers ${m.succeeded ? 'succeeded' : 'failed'} while sidecar ${others.join(', ')} still ran: the pod's result is theirs`,
      });
    const counts = podResults([...t.pods.values()], t.mainsEnded);
    const completions = job?.spec?.completions ?? 1;
    const backoffLimit = job?.spec?.backoffLimit ?? 6;
    if (counts.succeeded >= completions) t.verdict = 'Complete';
    else if (counts.failed > backoffLimit) t.verdict = 'Failed';
    if (t.verdict) t.decidedAtMs = nowMs;
    if (t.verdict) {
      t.suspects.clear();
      const why = t.verdict === 'Failed' ? ' (BackoffLimitExceeded)' : '';
      notes.push({
        kind: 'info',
        message: `job/${t.plan.name} ${t.verdict}${why}${others.length > 0 ? ', by its main containers (the sidecars are stopped with the Job)' : ''}`,
      });
    } else {
      t.ending.add(name);
      notes.push({ kind: 'end-pod', pod });
    }
    return notes;
  }

  /** The Jobs decided from their main containers (their sidecars kept them from finishing). */
  decidedJobs(): Job[] {
    return [...this.tracked.values()].flatMap((t) => {
      const job = t.job ?? t.created;
      return t.verdict && job && !(t.job && isJobFinished(t.job)) ? [job] : [];
    });
  }

  /** The pods of the Jobs that are running as last seen (phase Running, not being deleted). */
  runningPods(): Pod[] {
    return [...this.tracked.values()].flatMap((t) =>
      [...t.pods.values()].filter(
        (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
      ),
    );
  }

  /**
   * The pods that still exist of each Job that has finished (condition Complete or Failed) and
   * whose pods have all been seen to their end, by Job (`namespace/name`). Seen to their end:
   * every pod seen is in phase Succeeded or Failed or was seen deleted, and they are at least the
   * Job's `status.succeeded` + `status.failed` (so no pod the watch has not told of yet). A Job
   * not in the map may have pods kubestep does not know of, or running ones: teardown lists and
   * waits for those. Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
   */
  endedPods(): Map<string, Pod[]> {
    const byJob = new Map<string, Pod[]>();
    for (const [k, t] of this.tracked) {
      if (!t.job || !isJobFinished(t.job)) continue;
      const pods = [...t.pods.values()];
      const gone = (p: Pod) => this.gone.has(p.metadata?.uid ?? '');
      const ended = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      const counted = (t.job.status?.succeeded ?? 0) + (t.job.status?.failed ?? 0);
      if (pods.every((p) => ended(p) || gone(p)) && pods.length >= counted)
        byJob.set(
          k,
          pods.filter((p) => !gone(p)),
        );
    }
    return byJob;
  }

  /** True when every Job has finished and each of its pods was seen to its end ({@link endedPods}). */
  allPodsSeen(): boolean {
    return this.tracked.size > 0 && this.endedPods().size === this.tracked.size;
  }

  /** Pods whose main containers ended while their sidecars ran, by Job (`namespace/name`). */
  sidecarPods(): Map<string, string[]> {
    const byJob = new Map<string, string[]>();
    for (const [k, t] of this.tracked)
      if (t.mainsEnded.size > 0) byJob.set(k, [...t.mainsEnded.keys()]);
    return byJob;
  }

  /**
   * The containers whose logs need not be read to their end: sidecars still running in pods
   * whose main containers have ended, as `podUid/container`.
   */
  runningSidecars(): Set<string> {
    const keys = new Set<string>();
    for (const t of this.tracked.values()) {
      for (const pod of t.pods.values()) {
        const m = t.mainsEnded.get(pod.metadata?.name ?? '');
        // The artifacts collector is read to its end: it sends when its pod is stopped.
        for (const c of m?.running ?? [])
          if (c !== COLLECTOR) keys.add(`${pod.metadata?.uid}/${c}`);
      }
    }
    return keys;
  }

  /**
   * Time passes: a pod whose problem outlived its grace makes its Job stuck; a pod deleted while
   * its Job still runs {@link CONTROLLER_WINDOW_MS} later was deleted by someone else (warned).
   */
  tick(nowMs: number): TrackerNote[] {
    const notes: TrackerNote[] = [];
    for (const t of this.tracked.values()) {
      if (isDone(t)) continue;
      for (const [name, sinceMs] of t.suspects) {
        if (nowMs - sinceMs < CONTROLLER_WINDOW_MS) continue;
        t.suspects.delete(name);
        t.deletedPods.add(name);
        notes.push({
          kind: 'warn',
          message: `pod/${name} of job/${t.plan.name} was deleted before it ended, not by kubestep nor by the Job controller`,
        });
      }
      if (t.stuck || !t.job) continue;
      const failed = t.failedCreate;
      if (failed && t.pods.size === 0 && nowMs - failed.sinceMs >= this.plan.graces.podCreateMs) {
        t.stuck = {
          pod: '',
          reason: 'FailedCreate',
          message: `${failed.message} (for ${formatDuration(nowMs - failed.sinceMs)})`,
        };
        continue;
      }
      for (const pod of t.pods.values()) {
        const problem = testPodProblem(
          pod,
          this.plan.graces,
          this.mountFailures.get(pod.metadata?.uid ?? ''),
        );
        if (!problem) continue;
        const seen = this.problems.startedMs(pod.metadata?.uid ?? '', problem.reason, nowMs);
        if (nowMs - seen < problem.graceMs) continue;
        t.stuck = {
          pod: pod.metadata?.name ?? '?',
          reason: problem.reason,
          message: problem.message,
        };
        if (problem.graceMs > 0) t.stuck.message += ` (for ${formatDuration(nowMs - seen)})`;
        break;
      }
    }
    return notes;
  }

  /** Where the run stands. Once settled, it stays so (and `wait -l` adopts no more Jobs). */
  progress(): Progress {
    const all = [...this.tracked.values()];
    const some = all.length > 0;
    const appeared = some && all.every((t) => t.created);
    this.settled ||= appeared && all.every((t) => t.deleted || isDone(t));
    return { appeared, stuck: all.some((t) => t.stuck), settled: this.settled };
  }

  /** Each Job's summary at `nowMs`. */
  summaries(nowMs: number): JobSummary[] {
    return [...this.tracked.values()].map((t) =>
      summarizeJob(
        t.plan.name,
        t.plan.namespace,
        t.job ?? t.created,
        [...t.pods.values()],
        { startedAtMs: this.startedAtMs, nowMs },
        {
          deletedPods: t.deletedPods,
          stuck: t.stuck,
          mainsEnded: t.mainsEnded,
          verdict: t.verdict,
          decidedAtMs: t.decidedAtMs,
          sidecars: this.plan.sidecars,
        },
      ),
    );
  }

  /** The status line: what each Job is doing. */
  status(nowMs: number): string {
    return waitingStatus(this.summaries(nowMs), nowMs - this.startedAtMs);
  }

  /**
   * The outcome once the run is settled or stuck: infra-error when a pod cannot start or a Job
   * was deleted by someone else, failed when a Job Failed, else succeeded.
   */
  outcome(nowMs: number): Outcome {
    const jobs = this.summaries(nowMs);
    const all = [...this.tracked.values()];
    const stuck = jobs.filter((j) => j.result === 'Stuck');
    if (stuck.length > 0) {
      const names = stuck.map((j) => `job/${j.name} (${j.reason})`);
      const message = `${names.join(', ')} cannot start`;
      return { kind: 'infra-error', reason: 'PodCannotStart', jobs, message };
    }
    const deleted = all.filter((t) => t.deleted).map((t) => `job/${t.plan.name}`);
    if (deleted.length > 0) {
      const message = `${deleted.join(', ')} deleted by someone else before it finished`;
      return { kind: 'infra-error', reason: 'JobDeleted', jobs, message };
    }
    const failed = jobs.filter((j) => j.result === 'Failed').map((j) => `job/${j.name}`);
    if (failed.length === 0) return { kind: 'succeeded', reason: 'Complete', jobs };
    return { kind: 'failed', reason: 'JobFailed', jobs, message: `${failed.join(', ')} failed` };
  }

  /**
   * The outcome of a run that stopped early with `err`, its signal aborted with `abortReason` or
   * not (undefined): cancelled (SIGINT, SIGTERM), timed-out (naming the Jobs still running) or
   * infra-error. Undefined when `err` is for the caller to throw: bad input, or no Job was
   * created (there is nothing to report on).
   */
  stoppedOutcome(err: unknown, abortReason: unknown, nowMs: number): Outcome | undefined {
    const reason = abortReason ?? err;
    const jobs = this.summaries(nowMs);
    if (reason instanceof CancelledError) return cancelled(reason.signal, jobs);
    if (reason instanceof RunTimeoutError) {
      const running = jobs.filter((j) => j.result === 'Running').map((j) => `job/${j.name}`);
      const still = running.length ? ` while ${running.join(', ')} still ran` : '';
      return { kind: 'timed-out', reason: 'Timeout', jobs, message: `${reason.message}${still}` };
    }
    if (err instanceof InputError || !this.anyCreated()) return undefined;
    return { kind: 'infra-error', reason: 'InfraError', jobs, message: messageOf(err) };
  }

  /**
   * For each Job of `jobs` that failed, cannot start, or (`timedOut`) still ran when the run's
   * --timeout passed: its explanation (with what to do for a stuck one) and whose events to show: the stuck
   * pod, else the newest pod that failed, else the newest pod; and the Job.
   */
  explanations(jobs: readonly JobSummary[], timedOut = false): Explanation[] {
    return jobs
      .filter(
        (j) =>
          j.result === 'Failed' || j.result === 'Stuck' || (timedOut && j.result === 'Running'),
      )
      .map((j) => {
        const t = this.tracked.get(key(j.namespace, j.name));
        const stuck = j.result === 'Stuck';
        const pods = t ? [...t.pods.values()] : [];
        const pod =
          pods.find((p) => Boolean(t?.stuck?.pod) && p.metadata?.name === t?.stuck?.pod) ??
          [...pods].reverse().find((p) => p.status?.phase === 'Failed') ??
          pods.at(-1);
        const hint = j.result === 'Running' && pod ? sidecarHint(pod) : undefined;
        return {
          title: `job/${j.name} ${stuck ? 'cannot start' : j.result === 'Running' ? 'did not finish' : 'failed'}`,
          message: stuck
            ? `${j.explanation}\nwhat to do: ${stuckHint(j.reason ?? '', t?.stuck?.message ?? '')}`
            : `${j.explanation}${hint ? `\nwhat to do: ${hint}` : ''}`,
          subjects: [
            ...(pod ? [{ label: `pod/${pod.metadata?.name}`, object: pod }] : []),
            ...(t?.job ? [{ label: `job/${j.name}`, object: t.job }] : []),
          ],
        };
      });
  }

  /** The Jobs that have not appeared, as `job/NAME` (for `wait`'s error). */
  missing(): string[] {
    return [...this.tracked.values()].filter((t) => !t.created).map((t) => `job/${t.plan.name}`);
  }

  /**
   * `kubestep wait`: a Job seen for the first time is the one to follow (named, or matching the
   * selector while the run is not settled).
   */
  private adopt(k: string, job: Job): TrackerNote[] {
    const e = this.plan.existing!;
    let t = this.tracked.get(k);
    if (!t && e.selector !== undefined && !this.settled) {
      t = fresh(existingJob(e.namespace, job.metadata?.name ?? ''));
      this.tracked.set(k, t);
    }
    if (!t || t.created) return [];
    t.created = job;
    const notes: TrackerNote[] = [
      { kind: 'adopted', job },
      { kind: 'info', message: `found job/${t.plan.name} in namespace ${t.plan.namespace}` },
    ];
    const finishedMs = finishedBefore(job, this.startedAtMs - STALE_RESULT_MS);
    if (finishedMs !== undefined) {
      // kubectl apply leaves a finished Job of the same name as it is (its template cannot
      // change): the result would be that of an earlier build.
      notes.push({
        kind: 'warn',
        message: `job/${t.plan.name} finished ${formatDuration(this.startedAtMs - finishedMs)} before this wait started: its result may be an earlier build's (kubectl apply does not re-run a finished Job); delete it before applying, or use kubestep run`,
      });
    }
    return notes;
  }
}

/**
 * What the informers watch: the run's Jobs and pods by its run id; for `kubestep wait`, the
 * Jobs by selector or name, and pods by the `job-name` label that the Job controller sets.
 * Source: https://kubernetes.io/docs/reference/labels-annotations-taints/#job-name
 */
export function informerSelectors(plan: TrackerPlan): { jobs: ListOptions; pods: ListOptions } {
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
 * For a pod that did not finish: when some of its containers have ended and others still run,
 * the likely cause is a sidecar kubestep was not told about, and what to do. Undefined otherwise.
 */
export function sidecarHint(pod: Pod): string | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const ended = statuses.filter((c) => c.state?.terminated).map((c) => c.name);
  // The artifacts collector is known to be a sidecar: never a suggestion.
  const running = statuses
    .filter((c) => c.state?.running && c.name !== COLLECTOR)
    .map((c) => c.name);
  if (ended.length === 0 || running.length === 0) return undefined;
  const names = running.join(', ');
  return `container ${names} of pod/${pod.metadata?.name} still ran after ${ended.join(', ')} had ended: if it is a sidecar, name it with --sidecar ${running.join(',')} or the annotation kubestep.dev/sidecars (README: Sidecars)`;
}

function fresh(plan: TestJob): Tracked {
  return {
    plan,
    deleted: false,
    pods: new Map(),
    deletedPods: new Set<string>(),
    suspects: new Map<string, number>(),
    mainsEnded: new Map(),
    ending: new Set<string>(),
  };
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}
