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
  KubeEvent,
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

/**
 * How long each stuck reason may last before kubestep gives up, ms. A registry may have a short
 * outage, an autoscaler may add a node, a Secret may be created by the next document; an invalid
 * image name or a crash loop will not fix itself.
 * Source: https://kubernetes.io/docs/concepts/containers/images/#imagepullbackoff and
 * https://kubernetes.io/docs/tasks/debug/debug-application/debug-pods/
 */
export const STUCK_GRACE_MS: Readonly<Record<string, number>> = {
  InvalidImageName: 0,
  ErrImageNeverPull: 0,
  CrashLoopBackOff: 0,
  ErrImagePull: 120_000,
  ImagePullBackOff: 120_000,
  CreateContainerConfigError: 30_000,
  CreateContainerError: 30_000,
  RunContainerError: 30_000,
  Unschedulable: 300_000,
};

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
export function podProblem(pod: Pod): PodProblem | undefined {
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
  for (const s of allStatuses(pod)) {
    const reason = s.state?.waiting?.reason;
    if (reason && reason in STUCK_GRACE_MS) {
      const msg = s.state?.waiting?.message;
      return {
        reason,
        message: `container ${s.name}: ${reason}${msg ? `: ${msg}` : ''}${reason === 'CrashLoopBackOff' ? lastExit(s) : ''}`,
        container: s.name,
        graceMs: STUCK_GRACE_MS[reason]!,
      };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return {
      reason: 'Unschedulable',
      message: `cannot be scheduled: ${scheduled.message ?? 'no node fits'}`,
      graceMs: STUCK_GRACE_MS.Unschedulable!,
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
 * its pods has a problem older than its grace (`firstSeenMs(pod, reason)` tells since when kubestep
 * has seen it; times in ms).
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
 */
export function readinessOf(
  view: DependencyView,
  firstSeenMs: (pod: Pod, reason: string) => number,
  nowMs: number,
): Readiness {
  const what = `${view.res.kind}/${view.name}`;
  if (view.deleted) return { state: 'failed', why: `${what} was deleted` };
  for (const pod of view.pods) {
    const p = podProblem(pod);
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

/**
 * Up to `max` events as `kubectl describe` shows them, Warning first, newest first within each
 * type: `Warning  BackOff  3x over 40s  Back-off pulling image "x"`. Times in ms.
 */
export function formatEvents(events: readonly KubeEvent[], nowMs: number, max = 10): string[] {
  const last = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') || 0;
  const sorted = [...events].sort(
    (a, b) => Number(b.type === 'Warning') - Number(a.type === 'Warning') || last(b) - last(a),
  );
  return sorted.slice(0, max).map((e) => {
    const first = Date.parse(e.firstTimestamp ?? e.eventTime ?? '') || last(e);
    const age = (ms: number) => Math.max(0, Math.round((nowMs - ms) / 1000));
    const count = (e.count ?? 1) > 1 ? `${e.count}x over ${age(first)}s` : `${age(last(e))}s ago`;
    return `${e.type ?? 'Normal'}  ${e.reason ?? ''}  ${count}  ${(e.message ?? '').trim()}`;
  });
}
