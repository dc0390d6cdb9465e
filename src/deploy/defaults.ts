// What kubestep fills in before a server-side apply. Pure.
import type { KubeObject } from '../kube/types.js';

type Port = Record<string, unknown>;
type PodSpec = { containers?: { ports?: Port[] }[]; initContainers?: { ports?: Port[] }[] };

/** The pod specs inside an object of a built-in kind: a Pod's, a template's, a CronJob's. */
function podSpecs(o: Record<string, unknown>): PodSpec[] {
  const spec = o.spec as
    | (PodSpec & {
        template?: { spec?: PodSpec };
        jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
      })
    | undefined;
  if (!spec) return [];
  if (o.kind === 'Pod') return [spec];
  return [spec.template?.spec, spec.jobTemplate?.spec?.template?.spec].filter(
    (s): s is PodSpec => s !== undefined,
  );
}

/**
 * A copy of `o` in which every Service port and container port without `protocol` has
 * `protocol: TCP`, the API's default. Server-side apply on Kubernetes before 1.21 refuses such a
 * port ("associative list with keys has an element that omits key field protocol"), and manifests
 * written for `kubectl apply` rarely name it. Other fields and kinds are left as they are.
 * Source: https://github.com/kubernetes/kubernetes/pull/98576
 */
export function withPortProtocols(o: KubeObject): KubeObject {
  const copy = structuredClone(o) as KubeObject & Record<string, unknown>;
  const fill = (ports: Port[] | undefined) => {
    for (const p of ports ?? [])
      if (p && typeof p === 'object' && !('protocol' in p)) p.protocol = 'TCP';
  };
  if (copy.kind === 'Service' && copy.apiVersion === 'v1')
    fill((copy.spec as { ports?: Port[] } | undefined)?.ports);
  for (const spec of podSpecs(copy))
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) fill(c.ports);
  return copy;
}
