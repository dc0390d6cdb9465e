// Whether a workload's rollout is done, as `kubectl rollout status` decides it, from the object
// alone: Deployments, StatefulSets, DaemonSets. Pure.
// Source: kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go (the status viewers)
import type { KubeObject } from '../kube/types.js';

/** Where a rollout stands. */
export interface RolloutStatus {
  /** Every replica runs the new template and is available; no old ones are left. */
  done: boolean;
  /** The rollout cannot finish by itself (a Deployment past its `progressDeadlineSeconds`). */
  failed?: string | undefined;
  /** What it waits for, or that it is done, in kubectl's words. */
  message: string;
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** The fields the status viewers read. */
interface Workload extends KubeObject {
  spec?: {
    replicas?: number;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    currentReplicas?: number;
    updateRevision?: string;
    currentRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: Condition[];
  };
}

/** The kinds whose rollout kubestep waits for. */
export const ROLLOUT_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;

/**
 * The rollout status of `obj` (a Deployment, StatefulSet or DaemonSet as the API server returns
 * it); undefined for other kinds. A StatefulSet or DaemonSet with the `OnDelete` strategy has no
 * rollout to wait for: done. Throws nothing.
 */
export function rolloutStatus(obj: KubeObject): RolloutStatus | undefined {
  const w = obj as Workload;
  const name = w.metadata?.name ?? '';
  const generation = w.metadata?.generation ?? 0;
  const s = w.status ?? {};
  const observed = s.observedGeneration ?? 0;
  switch (w.kind) {
    case 'Deployment': {
      if (generation > observed)
        return { done: false, message: 'waiting for the spec update to be observed' };
      const progressing = s.conditions?.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        return {
          done: false,
          failed: `deployment ${JSON.stringify(name)} exceeded its progress deadline`,
          message: progressing.message ?? 'ProgressDeadlineExceeded',
        };
      const want = w.spec?.replicas ?? 1;
      const updated = s.updatedReplicas ?? 0;
      if (updated < want)
        return { done: false, message: `${updated} out of ${want} new replicas have been updated` };
      const replicas = s.replicas ?? 0;
      if (replicas > updated)
        return {
          done: false,
          message: `${replicas - updated} old replicas are pending termination`,
        };
      const available = s.availableReplicas ?? 0;
      if (available < updated)
        return {
          done: false,
          message: `${available} of ${updated} updated replicas are available`,
        };
      return { done: true, message: `deployment ${JSON.stringify(name)} successfully rolled out` };
    }
    case 'StatefulSet': {
      const strategy = w.spec?.updateStrategy?.type ?? 'RollingUpdate';
      if (strategy !== 'RollingUpdate')
        return { done: true, message: `${strategy} strategy: no rollout to wait for` };
      if (observed === 0 || generation > observed)
        return { done: false, message: 'waiting for the spec update to be observed' };
      const want = w.spec?.replicas ?? 1;
      const ready = s.readyReplicas ?? 0;
      if (ready < want)
        return { done: false, message: `waiting for ${want - ready} pods to be ready` };
      const partition = w.spec?.updateStrategy?.rollingUpdate?.partition;
      if (partition !== undefined) {
        const updated = s.updatedReplicas ?? 0;
        if (updated < want - partition)
          return {
            done: false,
            message: `partitioned rollout: ${updated} out of ${want - partition} new pods have been updated`,
          };
        return {
          done: true,
          message: `partitioned rollout complete: ${updated} new pods have been updated`,
        };
      }
      if (s.updateRevision !== s.currentRevision)
        return {
          done: false,
          message: `waiting for the rolling update to complete: ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision}`,
        };
      return {
        done: true,
        message: `rolling update complete: ${s.currentReplicas ?? 0} pods at revision ${s.currentRevision}`,
      };
    }
    case 'DaemonSet': {
      const strategy = w.spec?.updateStrategy?.type ?? 'RollingUpdate';
      if (strategy !== 'RollingUpdate')
        return { done: true, message: `${strategy} strategy: no rollout to wait for` };
      if (generation > observed)
        return { done: false, message: 'waiting for the spec update to be observed' };
      const desired = s.desiredNumberScheduled ?? 0;
      const updated = s.updatedNumberScheduled ?? 0;
      if (updated < desired)
        return { done: false, message: `${updated} out of ${desired} new pods have been updated` };
      const available = s.numberAvailable ?? 0;
      if (available < desired)
        return { done: false, message: `${available} of ${desired} updated pods are available` };
      return { done: true, message: `daemon set ${JSON.stringify(name)} successfully rolled out` };
    }
    default:
      return undefined;
  }
}
