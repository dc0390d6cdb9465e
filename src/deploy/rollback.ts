// What `deploy --rollback-on-failure` restores, decided from the workloads as they were before the
// apply and as the apply left them. Pure.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../kube/types.js';

type PodTemplate = {
  spec?: {
    containers?: { name?: string; image?: string }[];
    initContainers?: { name?: string; image?: string }[];
  };
};
type WithTemplate = KubeObject & { spec?: { template?: PodTemplate } };

/** A workload's `spec.template`, or undefined. */
export function templateOf(o: KubeObject | undefined): PodTemplate | undefined {
  const w: WithTemplate | undefined = o;
  return w?.spec?.template;
}

/** What a deploy did to one workload, for rolling back. */
export type WorkloadChange =
  { kind: 'created' } | { kind: 'unchanged' } | { kind: 'changed'; before: KubeObject };

/**
 * What the apply did to a workload's pod template: `created` when it did not exist before,
 * `changed` when its `spec.template` differs from `before`'s (both as the API server returned
 * them, so with the same defaults), else `unchanged` (a change of replicas is not a new revision,
 * and `kubectl rollout undo` restores the template only). Source:
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-back-a-deployment
 */
export function changeOf(before: KubeObject | undefined, after: KubeObject): WorkloadChange {
  if (!before) return { kind: 'created' };
  return isDeepStrictEqual(templateOf(before), templateOf(after))
    ? { kind: 'unchanged' }
    : { kind: 'changed', before };
}

/**
 * The object that rolls a workload back: the manifest as deploy applied it, with the pod template
 * it had before (`before.spec.template`, which is the template of its previous ReplicaSet or
 * ControllerRevision). Applied by the same field manager, it keeps the manifest's other fields and
 * owns the same ones, so the next deploy of a fixed version applies without conflicts. For a
 * Deployment the controller then scales the previous ReplicaSet up again (same template, same
 * pod-template-hash), as `kubectl rollout undo` does.
 */
export function rollbackObject(manifest: KubeObject, before: KubeObject): KubeObject {
  const spec = (manifest as { spec?: Record<string, unknown> }).spec ?? {};
  return { ...manifest, spec: { ...spec, template: templateOf(before) } } as KubeObject;
}

/** `web=registry/web:1, sidecar=envoy:1.30` : the images of a pod template, for messages. */
export function imagesOf(o: KubeObject): string {
  const t = templateOf(o)?.spec;
  return [...(t?.initContainers ?? []), ...(t?.containers ?? [])]
    .map((c) => `${c.name ?? '?'}=${c.image ?? '?'}`)
    .join(', ');
}
