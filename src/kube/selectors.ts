// Label selectors as the API's query strings. Pure.
import type { Job } from './types.js';

/**
 * The label selector (`k=v,k2=v2`) of the Job's pods, from `spec.selector.matchLabels` (which the
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
