// Label selectors as the API's query strings. Pure.
import type { Job, KubeObject, OwnerReference } from './types.js';

/**
 * The label selector (`k=v,k2=v2`) of the Job's pods (or a Deployment's, a StatefulSet's: the
 * same field), from `spec.selector.matchLabels` (which the
 * API server sets to `controller-uid=…` unless `manualSelector`); undefined when the Job has no
 * selector yet or uses `matchExpressions` (kubestep then lets the garbage collector find them).
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#specifying-your-own-pod-selector
 */
export function podSelectorOf(job: Job): string | undefined {
  const selector = job.spec?.selector;
  if (!selector || (selector.matchExpressions?.length ?? 0) > 0) return undefined;
  const labels = Object.entries(selector.matchLabels ?? {});
  if (labels.length === 0) return undefined;
  return labels.map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * The owner reference of the controller of `o` when it is a `kind` (a pod's Job, a ReplicaSet's
 * Deployment), or undefined.
 * Source: https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export function controllerOf(o: KubeObject, kind: string): OwnerReference | undefined {
  return o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === kind);
}
