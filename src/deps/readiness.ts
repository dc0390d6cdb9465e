// Readiness of dependencies, stuck pods, and what counts as a dependency breaking while the
// tests run. Pure: plain objects and times in, verdicts out.
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  PODS,
  SECRETS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../kube/resources.js';
import type {
  ContainerStatus,
  Endpoints,
  KubeObject,
  Pod,
  Service,
  Workload,
} from '../kube/types.js';

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
  /** `CreateContainerConfigError`, `CreateContainerError`, `RunContainerError`: a missing Secret or ConfigMap may be created by another step. */
  configErrorMs: number;
}

/** The defaults of the --image-pull-grace, --unschedulable-grace and --config-error-grace flags. */
export const DEFAULT_GRACES: StuckGraces = {
  imagePullMs: 120_000,
  unschedulableMs: 300_000,
  configErrorMs: 30_000,
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
      return graces.configErrorMs;
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
    reason === 'RunContainerError'
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

function allStatuses(pod: Pod): ContainerStatus[] {
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
export function podProblem(pod: Pod, graces: StuckGraces = DEFAULT_GRACES): PodProblem | undefined {
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
  return stuckProblem(pod, graces, true);
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
): PodProblem | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded' || pod.metadata?.deletionTimestamp) {
    return undefined;
  }
  return stuckProblem(pod, graces, false);
}

function stuckProblem(pod: Pod, graces: StuckGraces, crashLoop: boolean): PodProblem | undefined {
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
    return {
      reason: 'Unschedulable',
      message: `cannot be scheduled: ${scheduled.message ?? 'no node fits'}`,
      graceMs: graces.unschedulableMs,
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

/** Everything kubestep knows about one dependency. */
export interface DependencyView {
  res: Resource;
  name: string;
  /** The latest state seen (the created object until a watch reports). */
  object: KubeObject;
  deleted: boolean;
  /** Its pods: itself for a Pod, the pods its selector matches for a Deployment/StatefulSet. */
  pods: Pod[];
  /** For a Service: its Endpoints, when seen. */
  endpoints?: Endpoints | undefined;
}

/** Readiness of one dependency. */
export type Readiness =
  | { state: 'ready' }
  | { state: 'waiting'; why: string }
  | { state: 'failed'; why: string; pod?: Pod | undefined };

/**
 * Whether a dependency is ready: a Pod `Ready`; a Deployment or StatefulSet with all replicas
 * ready and updated; a Service with at least one ready endpoint (ExternalName and selector-less
 * Services at once); ConfigMaps and Secrets once created. `failed` when it was deleted, or one of
 * its pods has a problem older than its grace in `graces` (`firstSeenMs(pod, reason)` tells since
 * when kubestep has seen it; times in ms).
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
 */
export function readinessOf(
  view: DependencyView,
  firstSeenMs: (pod: Pod, reason: string) => number,
  nowMs: number,
  graces: StuckGraces = DEFAULT_GRACES,
): Readiness {
  const what = `${view.res.kind}/${view.name}`;
  if (view.deleted) return { state: 'failed', why: `${what} was deleted` };
  for (const pod of view.pods) {
    const p = podProblem(pod, graces);
    if (p && nowMs - firstSeenMs(pod, p.reason) >= p.graceMs) {
      const podName = pod.metadata?.name ?? '?';
      const where = view.res === PODS ? '' : ` (pod/${podName})`;
      return { state: 'failed', why: `${what}${where}: ${p.message}`, pod };
    }
  }
  if (view.res === CONFIGMAPS || view.res === SECRETS) return { state: 'ready' };
  if (view.res === PODS) {
    const pod = view.pods[0] ?? view.object;
    if (isPodReady(pod)) return { state: 'ready' };
    const p = podProblem(pod);
    return { state: 'waiting', why: `${what} ${p ? p.message : podWaitingFor(pod)}` };
  }
  if (view.res === SERVICES) {
    const svc = view.object as Service;
    if (svc.spec?.type === 'ExternalName' || !svc.spec?.selector) return { state: 'ready' };
    const ready = (view.endpoints?.subsets ?? []).some((s) => (s.addresses ?? []).length > 0);
    if (ready) return { state: 'ready' };
    const selector = Object.entries(svc.spec.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return {
      state: 'waiting',
      why: `${what} has no ready endpoint (no ready pod with ${selector})`,
    };
  }
  if (view.res === DEPLOYMENTS || view.res === STATEFULSETS) {
    const w = view.object as Workload;
    const want = w.spec?.replicas ?? 1;
    const status = w.status ?? {};
    const stalled = status.conditions?.find(
      (c) => c.type === 'Progressing' && c.status === 'False',
    );
    if (stalled?.reason === 'ProgressDeadlineExceeded') {
      return {
        state: 'failed',
        why: `${what}: ${stalled.message ?? 'progress deadline exceeded'}`,
      };
    }
    const observed = (status.observedGeneration ?? 0) >= (w.metadata?.generation ?? 1);
    const ready = status.readyReplicas ?? 0;
    const updated = view.res === DEPLOYMENTS ? (status.updatedReplicas ?? 0) : want;
    if (observed && ready >= want && updated >= want) return { state: 'ready' };
    const failure = status.conditions?.find(
      (c) => c.type === 'ReplicaFailure' && c.status === 'True',
    );
    const podWhy = view.pods
      .filter((p) => !isPodReady(p))
      .map((p) => `pod/${p.metadata?.name ?? '?'} ${podProblem(p)?.message ?? podWaitingFor(p)}`)
      .slice(0, 3);
    const details = [failure?.message, ...podWhy].filter(Boolean).join('; ');
    return {
      state: 'waiting',
      why: `${what} has ${ready} of ${want} replicas ready${details ? `: ${details}` : ''}`,
    };
  }
  return { state: 'ready' };
}

/** True when every `matchLabels` pair of `selector` is among `labels` (an empty selector: false). */
export function selectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const pairs = Object.entries(selector ?? {});
  return pairs.length > 0 && pairs.every(([k, v]) => labels?.[k] === v);
}

/**
 * Why a dependency pod that was fine when the tests started is not any more: it was deleted,
 * evicted or failed, or a container restarted (OOMKilled included, with its memory limit).
 * `baseline` is the pod as it was when the dependencies became ready (undefined for a pod that
 * appeared later: restarts are then counted from zero). Undefined: nothing happened.
 */
export function podBreakage(
  baseline: Pod | undefined,
  pod: Pod,
  deleted: boolean,
): string | undefined {
  const name = `pod/${pod.metadata?.name ?? '?'}`;
  if (deleted || pod.metadata?.deletionTimestamp) return `${name} was deleted`;
  if (pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted') {
    return `${name} was evicted${pod.status.message ? `: ${pod.status.message}` : ''}`;
  }
  for (const s of allStatuses(pod)) {
    const before = baseline
      ? (allStatuses(baseline).find((b) => b.name === s.name)?.restartCount ?? 0)
      : 0;
    if ((s.restartCount ?? 0) > before) {
      const t = s.lastState?.terminated;
      const limit = pod.spec?.containers.find((c) => c.name === s.name)?.resources?.limits?.memory;
      const why = t
        ? `${t.reason ?? 'Error'}, exit code ${t.exitCode}${t.reason === 'OOMKilled' && limit ? `, memory limit ${limit}` : ''}`
        : 'reason unknown';
      return `container ${s.name} of ${name} restarted (${why})`;
    }
  }
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
    return `${name} ${podProblem(pod)?.message ?? 'ended'}`;
  }
  return undefined;
}
