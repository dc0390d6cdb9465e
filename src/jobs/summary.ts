// What happened to each Job and its pods, in words people read. Pure.
import { formatDuration } from '../core/format.js';
import type {
  ContainerSummary,
  JobResult,
  JobSummary,
  Outcome,
  PodSummary,
  ShardSummary,
  TestReport,
} from '../core/outcome.js';
import { COMPLETION_INDEX_ANNOTATION, SHARDS_ANNOTATION } from '../manifests/shards.js';
import { jobState } from './status.js';
import type { ContainerStatus, Job, Pod } from '../kube/types.js';
import { COLLECTOR, nativeSidecarsOf, sidecarsOf, type MainsEnded } from '../pods/sidecars.js';

/** A Job's result decided by kubestep from its pods' main containers (its sidecars run on). */
export type Verdict = 'Complete' | 'Failed';

/** A pod of a Job that cannot start, as runJobs found it. */
export interface StuckPod {
  pod: string;
  reason: string;
  /** e.g. `container main: ErrImageNeverPull: ...`. */
  message: string;
}

/** What kubestep saw besides the objects: pods deleted by others, a stuck pod. */
export interface SeenFacts {
  /** Names of the Job's pods that were deleted before they ended, not by kubestep. */
  deletedPods?: ReadonlySet<string>;
  stuck?: StuckPod | undefined;
  /** Pods whose main containers ended while sidecars ran, by name: their result. */
  mainsEnded?: ReadonlyMap<string, MainsEnded>;
  /** The result decided from main containers, while the Job itself has no terminal condition. */
  verdict?: Verdict | undefined;
  /** When `verdict` was reached (ms since the epoch): the Job's end for its duration. */
  decidedAtMs?: number | undefined;
  /** Regular containers named as sidecars (`--sidecar`). */
  sidecars?: readonly string[] | undefined;
}

/**
 * Summarizes a Job from its last seen state and its pods. Duration runs from the Job's
 * `status.startTime` to its terminal condition (or to the verdict of its main containers, which
 * is then its `finishedAt`), else from `startedAtMs` to `nowMs` (ms).
 */
export function summarizeJob(
  name: string,
  namespace: string,
  job: Job | undefined,
  pods: readonly Pod[],
  times: { startedAtMs?: number; nowMs: number },
  facts: SeenFacts = {},
): JobSummary {
  const state = job ? jobState(job) : undefined;
  const result: JobResult = !job
    ? 'NotCreated'
    : state!.phase === 'complete'
      ? 'Complete'
      : state!.phase === 'failed'
        ? 'Failed'
        : facts.verdict
          ? facts.verdict
          : facts.stuck
            ? 'Stuck'
            : 'Running';
  const start = parseTime(job?.status?.startTime) ?? times.startedAtMs;
  const decidedAt = facts.verdict && result === facts.verdict ? facts.decidedAtMs : undefined;
  const end =
    state && state.phase !== 'running'
      ? (parseTime(state.at) ?? times.nowMs)
      : (decidedAt ?? times.nowMs);
  const sorted = [...pods].sort(byCreation);
  const deleted = facts.deletedPods ?? new Set<string>();
  const podSummaries = sorted.map((p) => {
    const s = summarizePod(p, sidecarsOf(p, facts.sidecars ?? [], job?.metadata?.annotations));
    if (deleted.has(s.name)) s.deleted = true;
    return s;
  });
  const summary: JobSummary = {
    name,
    namespace,
    result,
    explanation: '',
    attempts: attemptsOf(sorted),
    exitCodes: exitCodesOf(podSummaries),
    pods: podSummaries,
  };
  if (state && state.phase !== 'running') {
    if (state.reason) summary.reason = state.reason;
    if (state.message) summary.message = state.message;
    if (state.at) summary.finishedAt = state.at;
  } else if (decidedAt !== undefined) {
    summary.finishedAt = new Date(decidedAt).toISOString();
    if (result === 'Failed') summary.reason = 'BackoffLimitExceeded';
  } else if (result === 'Stuck') summary.reason = facts.stuck!.reason;
  else if (result === 'Failed') summary.reason = 'BackoffLimitExceeded';
  const shards = job ? shardsOf(job, sorted) : undefined;
  if (shards) summary.shards = shards;
  if (job?.status?.startTime) summary.startedAt = job.status.startTime;
  if (start !== undefined) summary.durationMs = Math.max(0, end - start);
  summary.explanation = explainJob(summary, job, sorted, facts);
  return summary;
}

/**
 * The shards of a Job that kubestep ran as one Indexed Job (annotation kubestep.dev/shards,
 * `completionMode: Indexed`): per completion index, its result from `status.completedIndexes`
 * and `status.failedIndexes`, its pods (by their completion index annotation) and its time.
 * Undefined for other Jobs.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#backoff-limit-per-index
 */
export function shardsOf(job: Job, pods: readonly Pod[]): ShardSummary[] | undefined {
  const spec = job.spec as Record<string, unknown> | undefined;
  if (!job.metadata?.annotations?.[SHARDS_ANNOTATION] || spec?.completionMode !== 'Indexed')
    return undefined;
  const status = job.status as Record<string, unknown> | undefined;
  const completed = indexSet(status?.completedIndexes);
  const failed = indexSet(status?.failedIndexes);
  const n = typeof spec.completions === 'number' ? spec.completions : 0;
  return Array.from({ length: n }, (_, index) => {
    const own = pods.filter(
      (p) => p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] === String(index),
    );
    const starts = own.flatMap((p) => parseTime(p.status?.startTime) ?? []);
    const ends = own.flatMap((p) =>
      (p.status?.containerStatuses ?? []).flatMap(
        (c) => parseTime(c.state?.terminated?.finishedAt) ?? [],
      ),
    );
    const shard: ShardSummary = {
      index,
      result: completed.has(index) ? 'Complete' : failed.has(index) ? 'Failed' : 'Running',
      attempts: own.length,
    };
    if (starts.length > 0 && ends.length > 0)
      shard.durationMs = Math.max(0, Math.max(...ends) - Math.min(...starts));
    return shard;
  });
}

/** The indexes of `1,3-5` (an Indexed Job's status), as numbers; empty for anything else. */
export function indexSet(v: unknown): Set<number> {
  const out = new Set<number>();
  if (typeof v !== 'string') return out;
  for (const part of v.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = Math.min(Number(m[2] ?? m[1]), from + 100_000);
    for (let i = from; i <= to; i++) out.add(i);
  }
  return out;
}

/** Attempts of a Job: its pods, plus restarts of their containers (`restartPolicy: OnFailure`). */
export function attemptsOf(pods: readonly Pod[]): number {
  return pods.reduce((n, p) => n + 1 + restartsOf(p), 0);
}

/**
 * The most restarts of any one container of `pod` (`restartPolicy: OnFailure`); native sidecars
 * restart on their own and do not count.
 */
function restartsOf(pod: Pod): number {
  const native = nativeSidecarsOf(pod);
  return [
    ...(pod.status?.initContainerStatuses ?? []).filter((c) => !native.has(c.name)),
    ...(pod.status?.containerStatuses ?? []),
  ].reduce((m, c) => Math.max(m, c.restartCount ?? 0), 0);
}

/**
 * Pods that succeeded and attempts that failed, as `completions` and `backoffLimit` count them: a
 * pod in `mainsEnded` by its main containers' result (its sidecars kept it running, or kubestep
 * deleted it); any other by its phase, without the pods being deleted (the Job controller deletes
 * the pods still running when a Job ends; those did not fail); container restarts
 * (`restartPolicy: OnFailure`) count as failures.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
 */
export function podResults(
  pods: readonly Pod[],
  mainsEnded: ReadonlyMap<string, MainsEnded>,
): { succeeded: number; failed: number } {
  let succeeded = 0;
  let failed = 0;
  for (const p of pods) {
    const m = mainsEnded.get(p.metadata?.name ?? '');
    const deleting = Boolean(p.metadata?.deletionTimestamp);
    const phase = p.status?.phase;
    if (m ? m.succeeded : phase === 'Succeeded' && !deleting) succeeded++;
    if (m ? !m.succeeded : phase === 'Failed' && !deleting) failed++;
    failed += restartsOf(p);
  }
  return { succeeded, failed };
}

function exitCodesOf(pods: readonly PodSummary[]): number[] {
  for (const p of [...pods].reverse()) {
    const codes = p.containers
      .filter((c) => c.exitCode !== undefined && !c.sidecar && (!c.init || c.exitCode !== 0))
      .map((c) => c.exitCode!);
    if (codes.length > 0) return codes;
  }
  return [];
}

/** What to do about a stuck pod, by its reason. */
export function stuckHint(reason: string, message = ''): string {
  switch (reason) {
    case 'InvalidImageName':
      return 'fix the image reference in the manifest';
    case 'ErrImageNeverPull':
      return 'the image is not on the node and imagePullPolicy is Never: load the image onto the node or change imagePullPolicy';
    case 'ErrImagePull':
    case 'ImagePullBackOff':
      return 'check the image name and tag, that it was pushed, and that the node may pull it (imagePullSecrets); --image-pull-grace sets how long kubestep waits';
    case 'CreateContainerConfigError':
    case 'CreateContainerError':
    case 'RunContainerError':
    case 'FailedMount':
    case 'FailedAttachVolume':
    case 'MissingClaim': {
      const grace = '; --config-error-grace sets how long kubestep waits';
      // The message says which: the reason alone does not (runAsNonRoot is a config error too).
      if (/runAsNonRoot|non-root/i.test(message))
        return 'the image runs as root but the pod requires runAsNonRoot: set securityContext.runAsUser to a non-zero user id, or use an image with a non-root USER';
      const missing = /(secret|configmap|persistentvolumeclaim)s? "([^"]+)" not found/i.exec(
        message,
      );
      if (missing) {
        const kind =
          {
            secret: 'Secret',
            configmap: 'ConfigMap',
            persistentvolumeclaim: 'PersistentVolumeClaim',
          }[missing[1]!.toLowerCase()] ?? missing[1]!;
        return `create the ${kind} ${missing[2]} in the pod's namespace (another step, or a --deps manifest), or fix the reference${grace}`;
      }
      // The 1.20 kubelet's first word on a missing Secret or ConfigMap, before "not found".
      const cache = /failed to sync (secret|configmap) cache/i.exec(message);
      if (cache)
        return `the kubelet could not read a ${cache[1]!.toLowerCase() === 'secret' ? 'Secret' : 'ConfigMap'} the pod refers to (env, envFrom or a volume): create it in the pod's namespace (another step, or a --deps manifest), or fix the reference${grace}`;
      if (/unbound immediate PersistentVolumeClaims/i.test(message))
        return `no PersistentVolume can be bound to the pod's claim: check its storageClassName and size, or create a volume${grace}`;
      if (/exec format error|executable file not found|no such file or directory/i.test(message))
        return `the container's command cannot be run in its image: check command/args and the image's platform${grace}`;
      return `fix what the message names (a Secret, ConfigMap, volume or the container's command)${grace}`;
    }
    case 'FailedCreate': {
      const grace = '; --pod-create-grace sets how long kubestep waits';
      const sa = /serviceaccount "([^"]+)" not found/i.exec(message);
      if (sa)
        return `create the ServiceAccount ${sa[1]} in the Job's namespace, or fix spec.template.spec.serviceAccountName${grace}`;
      if (/exceeded quota/i.test(message))
        return `a ResourceQuota of the namespace is used up: wait for other pods to end, raise the quota, or lower the pod's requests${grace}`;
      if (
        /violates PodSecurity|PodSecurityPolicy|unable to validate against any pod security policy/i.test(
          message,
        )
      )
        return `the namespace's pod security rules refuse the pod: change its securityContext to fit them${grace}`;
      if (/must specify|LimitRange|maximum|minimum/i.test(message))
        return `a LimitRange of the namespace refuses the pod's resources: set requests and limits within it${grace}`;
      return `the Job controller cannot create the pod: see the Job's events below${grace}`;
    }
    case 'Unschedulable':
      return 'no node can take the pod: lower its resource requests, fix its nodeSelector/tolerations, or add nodes; --unschedulable-grace sets how long kubestep waits';
    default:
      return 'see the events below';
  }
}

/**
 * Why one pod of a Job ended as it did, in one sentence, or undefined for a pod that succeeded
 * or still runs: deleted by someone else, evicted (with the node's message), its deadline, or
 * the first container that failed (OOMKilled with its memory limit, else its exit code).
 * Source: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-states
 */
export function explainPod(
  pod: Pod,
  deleted = false,
  sidecars: ReadonlySet<string> = new Set(),
): string | undefined {
  const name = `pod/${pod.metadata?.name ?? '?'}`;
  if (deleted) return `${name} was deleted by someone else before it ended`;
  const status = pod.status;
  if (status?.reason === 'Evicted') {
    return `${name} was evicted${status.message ? `: ${status.message.trim()}` : ''}`;
  }
  if (status?.reason === 'DeadlineExceeded') {
    const limit = pod.spec?.activeDeadlineSeconds;
    return `${name} ran longer than its activeDeadlineSeconds${limit !== undefined ? ` (${limit} s)` : ''}`;
  }
  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  // Sidecars last: one stopped with its pod (exit 137, 143) explains only when no main container does.
  const side = new Set([...sidecars, ...nativeSidecarsOf(pod)]);
  const all = [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])];
  const statuses = [
    ...all.filter((s) => !side.has(s.name)),
    ...all.filter((s) => side.has(s.name)),
  ];
  for (const s of statuses) {
    const t = s.state?.terminated ?? s.lastState?.terminated;
    if (!t || t.exitCode === 0) continue;
    const who = `container ${s.name} of ${name}`;
    if (t.reason === 'OOMKilled') {
      const limit = specs.find((c) => c.name === s.name)?.resources?.limits?.memory;
      return `${who} was OOMKilled: it used more memory than its limit${limit ? ` of ${limit}` : ''} (exit code ${t.exitCode})`;
    }
    const why =
      t.reason && t.reason !== 'Error'
        ? ` (${t.reason}${t.message ? `: ${t.message.trim().slice(0, 200)}` : ''})`
        : '';
    const signal = t.signal ? `, signal ${t.signal}` : '';
    return `${who} exited with code ${t.exitCode}${signal}${why}`;
  }
  if (status?.phase === 'Failed') {
    return `${name} failed${status.message ? `: ${status.message.trim()}` : ''}`;
  }
  return undefined;
}

/**
 * One sentence on how the Job ended, Prow-style: `failed 2 attempts (backoffLimit 1); last:
 * container main of pod/x exited with code 7`, `ran longer than activeDeadlineSeconds (5 s)`,
 * `pod/x cannot start: ...`, `Complete`.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
 */
export function explainJob(
  summary: Pick<JobSummary, 'result' | 'reason' | 'message' | 'attempts'>,
  job: Job | undefined,
  pods: readonly Pod[],
  facts: SeenFacts = {},
): string {
  const deleted = facts.deletedPods ?? new Set<string>();
  const mains = facts.mainsEnded ?? new Map<string, MainsEnded>();
  const sidecars = (p: Pod) => sidecarsOf(p, facts.sidecars ?? [], job?.metadata?.annotations);
  const counts = podResults(pods, mains);
  const tries = (n: number) => `${n} ${n === 1 ? 'attempt' : 'attempts'}`;
  // Sidecars that kept pods running after their main containers ended (kubestep stops them).
  const stillRan = [...new Set([...mains.values()].flatMap((m) => m.running))].filter(
    (c) => c !== COLLECTOR,
  );
  const sidecarNote =
    stillRan.length > 0
      ? `; decided by the main containers (sidecar ${stillRan.join(', ')} still ran)`
      : '';
  // The newest pod that failed on its own explains best; a deleted one only when none did (the
  // Job controller itself deletes the pods still running when the Job fails).
  const lastWhy = () => {
    const newestFirst = [...pods].reverse();
    // Pods being deleted (by someone else, or the controller's surplus pods) come last.
    // (kubestep deletes pods whose main containers ended while their sidecars ran: they count.)
    const gone = (p: Pod) =>
      deleted.has(p.metadata?.name ?? '') ||
      (Boolean(p.metadata?.deletionTimestamp) && !mains.has(p.metadata?.name ?? ''));
    for (const p of newestFirst) {
      const why = gone(p) ? undefined : explainPod(p, false, sidecars(p));
      if (why) return why;
    }
    for (const p of newestFirst) {
      if (deleted.has(p.metadata?.name ?? '')) return explainPod(p, true);
    }
    return undefined;
  };
  switch (summary.result) {
    case 'NotCreated':
      return 'not created';
    case 'Complete': {
      // Parallel pods are not attempts: `completions: 8` is 8 pods that succeeded.
      const completions = job?.spec?.completions ?? 1;
      if (completions > 1) {
        const { succeeded: ok, failed } = counts;
        return `${ok} of ${completions} pods succeeded${failed ? ` (${failed} failed ${failed === 1 ? 'attempt' : 'attempts'} retried)` : ''}${sidecarNote}`;
      }
      return `${summary.attempts > 1 ? `succeeded after ${tries(summary.attempts)}` : 'succeeded'}${sidecarNote}`;
    }
    case 'Stuck': {
      const s = facts.stuck!;
      return s.pod
        ? `pod/${s.pod} cannot start: ${s.message}`
        : `no pod can be created: ${s.message}`;
    }
    case 'Running': {
      const why = lastWhy();
      return `still running${why ? `; earlier: ${why}` : ''}`;
    }
    case 'Failed': {
      const why = lastWhy();
      if (summary.reason === 'BackoffLimitExceeded') {
        const limit = job?.spec?.backoffLimit ?? 6;
        // Failed pods (and restarts) count towards backoffLimit; pods the controller deleted do not.
        const failed = Math.max(1, counts.failed);
        return `failed ${tries(failed)} (backoffLimit ${limit})${why ? `; last: ${why}` : ''}${sidecarNote}`;
      }
      if (summary.reason === 'DeadlineExceeded') {
        const limit = job?.spec?.activeDeadlineSeconds;
        return `ran longer than its activeDeadlineSeconds${limit !== undefined ? ` (${limit} s)` : ''}, so its pods were stopped`;
      }
      const cond = [summary.reason, summary.message].filter(Boolean).join(': ');
      return [cond, why].filter(Boolean).join('; ') || 'Failed';
    }
  }
}

function byCreation(a: Pod, b: Pod): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  return ta < tb
    ? -1
    : ta > tb
      ? 1
      : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** One pod's containers with exit codes and reasons. */
export function summarizePod(pod: Pod, sidecars: ReadonlySet<string> = new Set()): PodSummary {
  const statuses = new Map<string, [ContainerStatus, boolean]>();
  for (const s of pod.status?.initContainerStatuses ?? []) statuses.set(s.name, [s, true]);
  for (const s of pod.status?.containerStatuses ?? []) statuses.set(s.name, [s, false]);
  const names: [string, boolean][] = [
    ...(pod.spec?.initContainers ?? []).map((c): [string, boolean] => [c.name, true]),
    ...(pod.spec?.containers ?? []).map((c): [string, boolean] => [c.name, false]),
  ];
  const side = new Set([...sidecars, ...nativeSidecarsOf(pod)]);
  const containers = names.map(([name, init]) => {
    const s = statuses.get(name)?.[0];
    const c = summarizeContainer(pod, name, init, s);
    return side.has(name) ? { ...c, sidecar: true } : c;
  });
  const out: PodSummary = {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    containers,
  };
  if (pod.status?.reason) out.reason = pod.status.reason;
  return out;
}

/** True when the container's termination message may be its log (FallbackToLogsOnError). */
function fromLogs(pod: Pod, name: string): boolean {
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === name,
  );
  return spec?.terminationMessagePolicy === 'FallbackToLogsOnError';
}

function summarizeContainer(
  pod: Pod,
  name: string,
  init: boolean,
  s: ContainerStatus | undefined,
): ContainerSummary {
  const restarts = s?.restartCount ?? 0;
  const t = s?.state?.terminated;
  if (t) {
    const reason =
      t.reason && t.reason !== 'Completed' && t.reason !== 'Error' ? t.reason : undefined;
    const signal = t.signal ? `, signal ${t.signal}` : '';
    const c: ContainerSummary = {
      name,
      init,
      state: `exit ${t.exitCode}${reason ? ` (${reason}${signal})` : signal ? ` (${signal.slice(2)})` : ''}`,
      exitCode: t.exitCode,
      restarts,
    };
    if (t.reason) c.reason = t.reason;
    // With terminationMessagePolicy FallbackToLogsOnError the kubelet puts log lines here: they
    // were mirrored already, and are not a message the container wrote on purpose.
    const message = t.message?.trim();
    // A container that could not be started has the runtime's error here (StartError).
    const runtimeError = t.reason === 'StartError' || t.reason === 'ContainerCannotRun';
    if (message && !runtimeError && !fromLogs(pod, name)) c.terminationMessage = message;
    return c;
  }
  const w = s?.state?.waiting;
  if (w) {
    const c: ContainerSummary = {
      name,
      init,
      state: `waiting: ${w.reason ?? 'unknown'}`,
      restarts,
    };
    if (w.reason) c.reason = w.reason;
    return c;
  }
  if (s?.state?.running) return { name, init, state: 'running', restarts };
  return { name, init, state: 'not started', restarts };
}

/** How many lines a Job's containers printed and lost, or undefined when none was followed. */
function lineCounts(j: JobSummary): { lines: number; lost: number | null } | undefined {
  const all = j.pods.flatMap((p) => p.containers).filter((c) => c.logLines !== undefined);
  if (all.length === 0) return undefined;
  return {
    lines: all.reduce((n, c) => n + c.logLines!, 0),
    lost: all.reduce<number | null>(
      (n, c) => (n === null || c.logLinesLost === null ? null : n + (c.logLinesLost ?? 0)),
      0,
    ),
  };
}

/** `20000`, `19800 (200 lost)`, `1200 (some lost)`. */
function formatLines(lines: number, lost: number | null | undefined): string {
  if (lost === 0 || lost === undefined) return String(lines);
  return `${lines} (${lost === null ? 'some' : lost} lost)`;
}

/**
 * Adds to each container of `jobs` the log lines mirrored and lost (from the log follower's
 * counts, matched by pod and container name). Returns new summaries.
 */
export function withLogCounts(
  jobs: readonly JobSummary[],
  counts: readonly { pod: string; container: string; lines: number; lost: number | null }[],
): JobSummary[] {
  const byKey = new Map(counts.map((c) => [`${c.pod}/${c.container}`, c]));
  return jobs.map((j) => ({
    ...j,
    pods: j.pods.map((p) => ({
      ...p,
      containers: p.containers.map((c) => {
        const n = byKey.get(`${p.name}/${c.name}`);
        return n ? { ...c, logLines: n.lines, logLinesLost: n.lost } : c;
      }),
    })),
  }));
}

/**
 * The summary table printed at the end of a run: per Job its result, duration, attempts, log
 * lines (and lines lost) and the explanation; below each Job that did not complete or lost log
 * lines, its pods with their containers' states and lines.
 */
export function formatSummary(jobs: readonly JobSummary[]): string[] {
  const rows = jobs.map((j) => [
    `job/${j.name}`,
    j.result,
    j.durationMs !== undefined ? formatDuration(j.durationMs) : '-',
    String(j.attempts),
    ((n) => (n ? formatLines(n.lines, n.lost) : '-'))(lineCounts(j)),
    j.explanation,
  ]);
  const header = ['JOB', 'RESULT', 'DURATION', 'ATTEMPTS', 'LINES', 'REASON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [line(header)];
  jobs.forEach((j, i) => {
    lines.push(line(rows[i]!));
    lines.push(...terminationMessages(j));
    lines.push(...testLines(j));
    const counts = lineCounts(j);
    if (j.result === 'Complete' && (counts === undefined || counts.lost === 0)) return;
    for (const p of j.pods) {
      const containers = p.containers
        .map(
          (c) =>
            `${c.sidecar ? 'sidecar ' : c.init ? 'init ' : ''}${c.name}: ${c.state}${c.restarts ? `, ${c.restarts} restarts` : ''}` +
            (c.logLines !== undefined
              ? `, ${formatLines(c.logLines, c.logLinesLost)} ${c.logLines === 1 ? 'line' : 'lines'}`
              : ''),
        )
        .join('; ');
      const extra = p.deleted ? ', deleted' : '';
      lines.push(
        `    pod/${p.name}  ${p.phase}${p.reason ? ` (${p.reason})` : ''}${extra}  ${containers}`.trimEnd(),
      );
    }
  });
  return [...lines, ...shardLines(jobs)];
}

/**
 * One line per sharded Job (`NAME-shard-I`, manifests/shards.ts): how many shards, which failed,
 * and the slowest, whose time is the suite's wall time.
 */
export function shardLines(jobs: readonly JobSummary[]): string[] {
  const groups = new Map<string, JobSummary[]>();
  for (const j of jobs) {
    const m = /^(.+)-shard-\d+$/.exec(j.name);
    if (m) groups.set(m[1]!, [...(groups.get(m[1]!) ?? []), j]);
  }
  const indexed = jobs.flatMap((j) => (j.shards ? [indexedLine(j.name, j.shards)] : []));
  return [
    ...indexed,
    ...[...groups].map(([name, shards]) => {
      const failed = shards.filter((j) => j.result !== 'Complete').map((j) => j.name);
      const timed = shards.filter((j) => j.durationMs !== undefined);
      const slowest = timed.sort((a, b) => b.durationMs! - a.durationMs!)[0];
      const fastest = timed.at(-1);
      return [
        `job/${name} in ${shards.length} shards: ${shards.length - failed.length} Complete`,
        ...(failed.length > 0 ? [`, ${failed.length} not (${failed.join(', ')})`] : []),
        ...(slowest && fastest
          ? [
              `; slowest ${slowest.name} ${formatDuration(slowest.durationMs!)}, fastest ${formatDuration(fastest.durationMs!)}`,
            ]
          : []),
      ].join('');
    }),
  ];
}

/** The line of a Job run as one Indexed Job: shards Complete, the failed indexes, the slowest. */
function indexedLine(name: string, shards: readonly ShardSummary[]): string {
  const notDone = shards.filter((s) => s.result !== 'Complete');
  const timed = shards
    .filter((s) => s.durationMs !== undefined)
    .sort((a, b) => b.durationMs! - a.durationMs!);
  const slowest = timed[0];
  const fastest = timed.at(-1);
  return [
    `job/${name} in ${shards.length} shards (one Indexed Job): ${shards.length - notDone.length} Complete`,
    ...(notDone.length > 0
      ? [
          `, ${notDone.length} not (${notDone.map((s) => `index ${s.index} ${s.result}`).join(', ')})`,
        ]
      : []),
    ...(slowest && fastest
      ? [
          `; slowest index ${slowest.index} ${formatDuration(slowest.durationMs!)}, fastest index ${fastest.index} ${formatDuration(fastest.durationMs!)}`,
        ]
      : []),
  ].join('');
}

/** At most this much of a termination message in the summary, characters (the result file has it all). */
const MESSAGE_CHARS = 300;

/**
 * The termination messages of a Job's containers, one summary line each (first lines, at most
 * {@link MESSAGE_CHARS} characters, line breaks shown as ` ⏎ `).
 */
function terminationMessages(j: JobSummary): string[] {
  return j.pods.flatMap((p) =>
    p.containers
      .filter((c) => c.terminationMessage)
      .map((c) => {
        const text = c.terminationMessage!.replace(/\r?\n/g, ' ⏎ ');
        const cut = text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
        return `    pod/${p.name} ${c.name}: termination message: ${cut}`;
      }),
  );
}

function parseTime(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The status line while Jobs run: `1 min 5 s: job/a Running (pod/a-x: main running), job/b
 * Complete`. `elapsedMs` since the run started.
 */
export function waitingStatus(jobs: readonly JobSummary[], elapsedMs: number): string {
  const parts = jobs.map((j) => {
    const pod = j.pods.at(-1);
    if (j.result !== 'Running' || !pod) return `job/${j.name} ${j.result}`;
    const waiting = pod.containers.find((c) => c.state.startsWith('waiting'));
    const running = pod.containers.filter((c) => c.state === 'running').map((c) => c.name);
    const detail = waiting
      ? `${waiting.name} ${waiting.state}`
      : running.length > 0
        ? `${running.join(', ')} running`
        : pod.phase;
    const tries = j.attempts > 1 ? `, attempt ${j.attempts}` : '';
    return `job/${j.name} Running (pod/${pod.name}: ${detail}${tries})`;
  });
  return `${formatDuration(elapsedMs)}: ${parts.join(', ')}`;
}

/**
 * `o` with each Job's JUnit report (by Job name). With `failOnTestFailures`, a Job that ended
 * `Complete` while its reports have failed or erred cases is `Failed` (reason `TestFailures`), and
 * a run that had succeeded has failed: test commands that swallow their own exit code are common.
 */
export function withTests(
  o: Outcome,
  reports: ReadonlyMap<string, TestReport>,
  failOnTestFailures: boolean,
): Outcome {
  const jobs = o.jobs.map((j): JobSummary => {
    const tests = reports.get(j.name);
    if (!tests) return j;
    const bad = tests.failures + tests.errors;
    if (failOnTestFailures && j.result === 'Complete' && bad > 0) {
      return {
        ...j,
        tests,
        result: 'Failed',
        reason: 'TestFailures',
        explanation: `Complete, but its JUnit reports ${bad} failed test ${bad === 1 ? 'case' : 'cases'} (--fail-on-test-failures)`,
      };
    }
    return { ...j, tests };
  });
  const failed = jobs.filter((j) => j.result === 'Failed').map((j) => `job/${j.name}`);
  if (o.kind === 'succeeded' && failed.length > 0)
    return { kind: 'failed', reason: 'JobFailed', jobs, message: `${failed.join(', ')} failed` };
  return { ...o, jobs };
}

/** At most this many failed test cases per Job in the summary. */
const SUMMARY_CASES = 10;

/** A Job's JUnit counts and its first failed cases, as summary lines. */
function testLines(j: JobSummary): string[] {
  const t = j.tests;
  if (!t) return [];
  const lines = [
    `    tests: ${t.tests} (${t.failures} failed, ${t.errors} errors, ${t.skipped} skipped; ${t.timeSeconds.toFixed(1)} s) in ${t.files.length} JUnit ${t.files.length === 1 ? 'report' : 'reports'}`,
  ];
  for (const c of t.failed.slice(0, SUMMARY_CASES)) {
    const message = c.message.split('\n')[0]!.slice(0, 200);
    lines.push(`      ✗ ${c.suite} › ${c.name}: ${message}`);
  }
  if (t.failed.length > SUMMARY_CASES)
    lines.push(`      … and ${t.failed.length - SUMMARY_CASES} more (the result file lists them)`);
  return lines;
}

/** `o` with each Job's `$KUBESTEP_OUTPUT` values (by Job name). */
export function withOutputs(
  o: Outcome,
  outputs: ReadonlyMap<string, Record<string, string>>,
): Outcome {
  return {
    ...o,
    jobs: o.jobs.map((j) => (outputs.has(j.name) ? { ...j, outputs: outputs.get(j.name)! } : j)),
  };
}
