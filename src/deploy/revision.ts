// Which pods belong to a workload's new revision, and what makes such a pod a failed rollout.
// Only the new revision's pods are judged: old pods may be crashing for reasons of their own. Pure.
// Sources: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pod-template-hash-label
// and https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#rolling-updates
import type { KubeObject, Pod } from '../kube/types.js';
import { allStatuses, podProblem, type PodProblem, type StuckGraces } from '../pods/problems.js';

/** The annotation the Deployment controller keeps on a Deployment and its ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** The label of a Deployment's pods and ReplicaSets: the hash of their pod template. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** The label of a StatefulSet's or DaemonSet's pods: the ControllerRevision they run. */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

/** How to tell a pod of the new revision: a label and its value. */
export interface RevisionLabel {
  label: string;
  value: string;
}

/**
 * The new revision of a workload as a pod label, or undefined while it is not known yet: a
 * Deployment's ReplicaSet (owned by it) whose revision annotation is the Deployment's (its
 * `pod-template-hash`); a StatefulSet's `status.updateRevision`; a DaemonSet's newest
 * ControllerRevision (`revisions`: those it owns), whose name ends in the hash.
 */
export function newRevision(
  workload: KubeObject,
  owned: readonly KubeObject[],
): RevisionLabel | undefined {
  const uid = workload.metadata?.uid;
  const mine = owned.filter((o) => o.metadata?.ownerReferences?.some((r) => r.uid === uid));
  switch (workload.kind) {
    case 'Deployment': {
      const revision = workload.metadata?.annotations?.[REVISION_ANNOTATION];
      if (!revision) return undefined;
      const rs = mine.find((o) => o.metadata?.annotations?.[REVISION_ANNOTATION] === revision);
      const hash = rs?.metadata?.labels?.[POD_TEMPLATE_HASH];
      return hash ? { label: POD_TEMPLATE_HASH, value: hash } : undefined;
    }
    case 'StatefulSet': {
      const rev = (workload as { status?: { updateRevision?: string } }).status?.updateRevision;
      return rev ? { label: CONTROLLER_REVISION_HASH, value: rev } : undefined;
    }
    case 'DaemonSet': {
      const newest = [...mine].sort(
        (a, b) =>
          ((b as { revision?: number }).revision ?? 0) -
          ((a as { revision?: number }).revision ?? 0),
      )[0];
      const name = newest?.metadata?.name;
      const base = `${workload.metadata?.name}-`;
      return name?.startsWith(base)
        ? { label: CONTROLLER_REVISION_HASH, value: name.slice(base.length) }
        : undefined;
    }
    default:
      return undefined;
  }
}

/** Whether `pod` runs the revision `rev`, and is not being deleted. */
export function isOfRevision(pod: Pod, rev: RevisionLabel): boolean {
  return pod.metadata?.labels?.[rev.label] === rev.value && !pod.metadata?.deletionTimestamp;
}

/**
 * Why a pod of the new revision shows that the rollout will not succeed, or undefined: what keeps
 * any long-running pod from running (podProblem: image pulls, scheduling, configuration, a crash
 * loop, a pod that ended), or a container that restarted more than `maxRestarts` times.
 */
export function rolloutPodProblem(
  pod: Pod,
  graces: StuckGraces,
  maxRestarts: number,
): PodProblem | undefined {
  const problem = podProblem(pod, graces);
  if (problem) return problem;
  for (const s of allStatuses(pod)) {
    if ((s.restartCount ?? 0) > maxRestarts) {
      const t = s.lastState?.terminated;
      const last = t ? ` (last exit: ${t.reason ?? 'Error'}, exit code ${t.exitCode})` : '';
      return {
        reason: 'Restarts',
        message: `container ${s.name} restarted ${s.restartCount} times${last}`,
        container: s.name,
        graceMs: 0,
      };
    }
  }
  return undefined;
}
