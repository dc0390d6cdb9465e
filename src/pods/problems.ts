// Stuck pods: what keeps a pod from running, how long kubestep waits for it to clear up, and
// since when a pod has had its problem. Pure: plain objects and times in, verdicts out.
import type { ContainerStatus, Pod } from '../kube/types.js';

/** A container waiting for a reason that may or may not clear up, and how long kubestep waits. */
export interface PodProblem {
  /** Kubernetes' reason: `ErrImagePull`, `Unschedulable`, `CrashLoopBackOff`, `Evicted`, ... */
  reason: string;
  /** One sentence for people. */
  message: string;
  container?: string | undefined;
  /** How long the problem may last before it is final, ms; 0: final at once. */
  graceMs: number;
}

/** How long each kind of stuck pod may stay stuck before kubestep gives up, ms (the --*-grace flags). */
export interface StuckGraces {
  /** `ErrImagePull`, `ImagePullBackOff`: a registry may have a short outage. */
  imagePullMs: number;
  /** `PodScheduled=False/Unschedulable`: an autoscaler may add a node. */
  unschedulableMs: number;
  /**
   * `CreateContainerConfigError`, `CreateContainerError`, `RunContainerError`, a volume that cannot
   * be mounted (`FailedMount`), a claim that does not exist or is not bound: a missing Secret,
   * ConfigMap or PersistentVolumeClaim may be created by another step.
   */
  configErrorMs: number;
  /**
   * A Job that has no pod because the Job controller cannot create one (`FailedCreate`: a missing
   * ServiceAccount, a quota, an admission or PodSecurity refusal): quotas free up.
   */
  podCreateMs: number;
}

/** The defaults of the --image-pull-grace, --unschedulable-grace and --config-error-grace flags. */
export const DEFAULT_GRACES: StuckGraces = {
  imagePullMs: 120_000,
  unschedulableMs: 300_000,
  configErrorMs: 30_000,
  podCreateMs: 60_000,
};

/**
 * How long a container waiting with `reason` may stay so, ms, or undefined when the reason is
 * part of normal start-up (`ContainerCreating`, `PodInitializing`). An invalid image name, an
 * image that must not be pulled, and a crash loop will not fix themselves: 0.
 * Source: https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff and
 * https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/
 */
export function stuckGraceMs(reason: string, graces: StuckGraces): number | undefined {
  switch (reason) {
    case 'InvalidImageName':
    case 'ErrImageNeverPull':
    case 'CrashLoopBackOff':
      return 0;
    case 'ErrImagePull':
    case 'ImagePullBackOff':
      return graces.imagePullMs;
    case 'CreateContainerConfigError':
    case 'CreateContainerError':
    case 'RunContainerError':
    case 'FailedMount':
    case 'FailedAttachVolume':
    case 'MissingClaim':
      return graces.configErrorMs;
    case 'FailedCreate':
      return graces.podCreateMs;
    case 'Unschedulable':
      return graces.unschedulableMs;
    default:
      return undefined;
  }
}

/**
 * Reasons that alternate while one problem lasts (the kubelet shows `ErrImagePull` at each attempt
 * and `ImagePullBackOff` between them) share one clock, so that the grace is not restarted.
 */
function problemClass(reason: string): string {
  if (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') return 'image-pull';
  if (
    reason === 'CreateContainerConfigError' ||
    reason === 'CreateContainerError' ||
    reason === 'RunContainerError' ||
    reason === 'FailedMount' ||
    reason === 'FailedAttachVolume' ||
    reason === 'MissingClaim'
  ) {
    return 'config';
  }
  return reason;
}

/**
 * Since when each pod has had its current problem, ms: the start of a grace period. A problem
 * that goes away (or turns into another kind) starts a new clock; `ErrImagePull` and
 * `ImagePullBackOff` are one kind. Keyed by pod uid.
 */
export class ProblemClock {
  private readonly since = new Map<string, { cls: string; ms: number }>();

  /** Records what the pod's latest state shows (`reason` undefined: no problem) at `nowMs`. */
  note(uid: string, reason: string | undefined, nowMs: number): void {
    if (reason === undefined) {
      this.since.delete(uid);
      return;
    }
    const cls = problemClass(reason);
    if (this.since.get(uid)?.cls !== cls) this.since.set(uid, { cls, ms: nowMs });
  }

  /** When the pod's problem of `reason`'s kind started, or `nowMs` when none was noted. */
  startedMs(uid: string, reason: string, nowMs: number): number {
    const s = this.since.get(uid);
    return s && s.cls === problemClass(reason) ? s.ms : nowMs;
  }
}

/** The statuses of the pod's init containers and containers, in that order. */
export function allStatuses(pod: Pod): ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

function lastExit(s: ContainerStatus): string {
  const t = s.lastState?.terminated;
  if (!t) return '';
  return ` (last exit: ${t.reason ?? 'Error'}, exit code ${t.exitCode})`;
}

/**
 * Why the pod cannot run, or undefined when nothing is wrong (yet). A pod that ended (phase
 * Failed or Succeeded) is final at once: a dependency must keep running.
 */
export function podProblem(
  pod: Pod,
  graces: StuckGraces = DEFAULT_GRACES,
  mountFailure?: MountFailure,
): PodProblem | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const why = pod.status?.reason ?? (phase === 'Failed' ? 'Failed' : 'Completed');
    const ended = allStatuses(pod)
      .filter((s) => s.state?.terminated)
      .map((s) => `container ${s.name} exited with code ${s.state!.terminated!.exitCode}`);
    const detail = pod.status?.message ?? ended.join(', ');
    return {
      reason: why,
      message: `the pod ended (phase ${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})${detail ? `: ${detail}` : ''}`,
      graceMs: 0,
    };
  }
  return stuckProblem(pod, graces, true, mountFailure);
}

/**
 * Why a test Job's pod cannot start, or undefined. Unlike {@link podProblem}, an ended pod is no
 * problem (the Job decides), nor is a crash loop (`restartPolicy: OnFailure` restarts count
 * towards the Job's `backoffLimit`), nor a pod being deleted.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
 */
export function testPodProblem(
  pod: Pod,
  graces: StuckGraces = DEFAULT_GRACES,
  mountFailure?: MountFailure,
): PodProblem | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded' || pod.metadata?.deletionTimestamp) {
    return undefined;
  }
  return stuckProblem(pod, graces, false, mountFailure);
}

/** The newest `FailedMount` or `FailedAttachVolume` warning event of a pod. */
export interface MountFailure {
  reason: 'FailedMount' | 'FailedAttachVolume';
  message: string;
}

/**
 * The kubelet's words when its Secret or ConfigMap cache did not sync in time. A busy kubelet
 * says them once for a volume that mounts at its next try (200 pods on one node: the pod then
 * waited 30 s more for its container, and kubestep took the old event for a stuck mount); for an
 * object that is missing the 1.20 kubelet may say them too, and then they recur at each retry
 * (0.5 s, 1 s, 2 s, … apart).
 */
const CACHE_TIMEOUT =
  /failed to sync (secret|configmap) cache: timed out waiting for the condition/i;

/** How often an event was recorded: `count`, or `series.count` (events.k8s.io), else once. */
function occurrences(e: { count?: number; series?: { count?: number } }): number {
  return Math.max(e.count ?? 1, e.series?.count ?? 1);
}

/**
 * The pod's volume problem from its warning events (newest last), or undefined: the kubelet
 * reports a Secret, ConfigMap or claim it cannot mount only as `FailedMount` events, while the
 * pod stays `ContainerCreating`. A missing object (`… not found`) is preferred to other words;
 * among equals, the newest. A cache timeout ({@link CACHE_TIMEOUT}) counts only once it was
 * recorded 3 times: once or twice, it is a busy kubelet whose next try mounts the volume.
 * Source: https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/
 */
export function mountFailureOf(
  events: readonly {
    type?: string;
    reason?: string;
    message?: string;
    count?: number;
    series?: { count?: number };
  }[],
): MountFailure | undefined {
  const failures = [...events]
    .reverse()
    .filter((e) => e.type === 'Warning')
    .filter((e) => e.reason === 'FailedMount' || e.reason === 'FailedAttachVolume')
    .filter((e) => !CACHE_TIMEOUT.test(e.message ?? '') || occurrences(e) >= 3);
  const e = failures.find((x) => /not found/i.test(x.message ?? '')) ?? failures[0];
  if (!e) return undefined;
  return { reason: e.reason as MountFailure['reason'], message: (e.message ?? '').trim() };
}

/** The scheduler's words for a claim that does not exist, or is not bound. */
const CLAIM_PROBLEM =
  /persistentvolumeclaim "[^"]+" not found|unbound immediate PersistentVolumeClaims/i;

/**
 * True while the pod is still being set up: `Pending`, not refused by the scheduler, no container
 * started yet (volumes mounted, images pulled; the kubelet may not have reported container
 * states yet).
 */
export function isBeingCreated(pod: Pod): boolean {
  if (pod.status?.phase !== 'Pending' || pod.metadata?.deletionTimestamp) return false;
  // Not waiting for a node (that is the scheduler's condition), and no container has started.
  const unscheduled = pod.status?.conditions?.some(
    (c) => c.type === 'PodScheduled' && c.status === 'False',
  );
  const started = allStatuses(pod).some((s) => s.state?.running || s.state?.terminated);
  return !unscheduled && !started;
}

function stuckProblem(
  pod: Pod,
  graces: StuckGraces,
  crashLoop: boolean,
  mountFailure?: MountFailure,
): PodProblem | undefined {
  for (const s of allStatuses(pod)) {
    const reason = s.state?.waiting?.reason;
    const graceMs = reason ? stuckGraceMs(reason, graces) : undefined;
    if (reason && graceMs !== undefined && (crashLoop || reason !== 'CrashLoopBackOff')) {
      const msg = s.state?.waiting?.message;
      return {
        reason,
        message: `container ${s.name}: ${reason}${msg ? `: ${msg}` : ''}${reason === 'CrashLoopBackOff' ? lastExit(s) : ''}`,
        container: s.name,
        graceMs,
      };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    // A claim that does not exist is a configuration error, not a full cluster.
    if (CLAIM_PROBLEM.test(scheduled.message ?? '')) {
      return {
        reason: 'MissingClaim',
        message: `cannot be scheduled: ${scheduled.message}`,
        graceMs: graces.configErrorMs,
      };
    }
    return {
      reason: 'Unschedulable',
      message: `cannot be scheduled: ${scheduled.message ?? 'no node fits'}`,
      graceMs: graces.unschedulableMs,
    };
  }
  if (mountFailure && isBeingCreated(pod)) {
    return {
      reason: mountFailure.reason,
      message: `${mountFailure.reason}: ${mountFailure.message}`,
      graceMs: graces.configErrorMs,
    };
  }
  return undefined;
}

/** True when the pod's `Ready` condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** What a not-ready pod is waiting for, in a few words. */
export function podWaitingFor(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'is being deleted';
  const phase = pod.status?.phase ?? 'Pending';
  const waiting = allStatuses(pod).find((s) => s.state?.waiting);
  if (waiting) return `container ${waiting.name} is ${waiting.state!.waiting!.reason ?? 'waiting'}`;
  const notReady = (pod.status?.containerStatuses ?? []).find((s) => s.state?.running && !s.ready);
  if (notReady) return `container ${notReady.name} runs but is not ready (readiness probe)`;
  return phase === 'Pending' ? 'is Pending' : `is ${phase}, not Ready`;
}
