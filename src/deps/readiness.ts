// Readiness of dependencies and what counts as a dependency breaking while the tests run. Pure:
// plain objects and times in, verdicts out. Stuck pods are pods/problems.ts'.
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  PODS,
  SECRETS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../kube/resources.js';
import {
  allStatuses,
  DEFAULT_GRACES,
  isPodReady,
  podProblem,
  podWaitingFor,
  type MountFailure,
  type PodProblem,
  type StuckGraces,
} from '../pods/problems.js';
import type { Endpoints, KubeObject, Pod, Service, Workload } from '../kube/types.js';

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
  /** Its pods' newest mount failures (from their events), by pod uid. */
  mountFailures?: ReadonlyMap<string, MountFailure> | undefined;
  /**
   * A StatefulSet's newest `FailedCreate` event while it has no pod (a Deployment says the same
   * in its `ReplicaFailure` condition).
   */
  failedCreate?: string | undefined;
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
  firstSeenMs: (o: KubeObject, reason: string) => number,
  nowMs: number,
  graces: StuckGraces = DEFAULT_GRACES,
): Readiness {
  const what = `${view.res.kind}/${view.name}`;
  if (view.deleted) return { state: 'failed', why: `${what} was deleted` };
  const created = workloadProblem(view, graces);
  if (created && nowMs - firstSeenMs(view.object, created.reason) >= created.graceMs) {
    return { state: 'failed', why: `${what}: ${created.message}` };
  }
  for (const pod of view.pods) {
    const p = podProblem(pod, graces, view.mountFailures?.get(pod.metadata?.uid ?? ''));
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

/**
 * A Deployment or StatefulSet that cannot create its pods (a missing ServiceAccount, a quota, an
 * admission refusal): the Deployment's `ReplicaFailure` condition, a StatefulSet's `FailedCreate`
 * event; under --pod-create-grace. Undefined when it has pods or no such word.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#failed-deployment
 */
export function workloadProblem(
  view: DependencyView,
  graces: StuckGraces = DEFAULT_GRACES,
): PodProblem | undefined {
  if (view.res !== DEPLOYMENTS && view.res !== STATEFULSETS) return undefined;
  if (view.pods.length > 0) return undefined;
  const failure = (view.object as Workload).status?.conditions?.find(
    (c) => c.type === 'ReplicaFailure' && c.status === 'True',
  );
  const message = failure?.message ?? view.failedCreate;
  if (!message) return undefined;
  return {
    reason: 'FailedCreate',
    message: `no pod can be created: ${message.trim()}`,
    graceMs: graces.podCreateMs,
  };
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
