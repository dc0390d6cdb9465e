// Manifests for `deploy`: any namespaced object, named, in one namespace. Pure.
import { InputError } from '../core/errors.js';
import type { KubeObject } from '../kube/types.js';
import { describeOrigin, type ParsedDocument } from './parse.js';

/** An object to apply, and where it was written. */
export interface ManifestObject {
  object: KubeObject;
  origin: string;
}

/**
 * The documents as objects to apply, each with `metadata.namespace` set: its own, or `namespace`
 * (an object naming another namespace than an explicit `-n` is a problem, as for `run`). Throws
 * InputError naming every document that is not an object with apiVersion, kind and
 * metadata.name (generateName cannot be applied: apply needs a name), or that repeats another's
 * kind and name.
 */
export function toManifestObjects(
  docs: readonly ParsedDocument[],
  opts: { namespace: string; namespaceIsExplicit: boolean },
): ManifestObject[] {
  const problems: string[] = [];
  const out: ManifestObject[] = [];
  const seen = new Map<string, string>();
  if (docs.length === 0)
    throw new InputError('the manifests hold no documents: give at least one object with -f');
  for (const d of docs) {
    const where = describeOrigin(d.origin);
    const o = d.object as KubeObject | null;
    const name = o?.metadata?.name;
    if (
      !o ||
      typeof o !== 'object' ||
      typeof o.apiVersion !== 'string' ||
      typeof o.kind !== 'string'
    ) {
      problems.push(`${where}: not a Kubernetes object (apiVersion and kind are needed)`);
      continue;
    }
    if (typeof name !== 'string' || !name) {
      problems.push(
        `${where}: ${o.kind} has no metadata.name (deploy applies objects by name; generateName cannot be applied)`,
      );
      continue;
    }
    const own = o.metadata?.namespace;
    if (own && opts.namespaceIsExplicit && own !== opts.namespace) {
      problems.push(
        `${where}: metadata.namespace is ${JSON.stringify(own)} but --namespace is ${JSON.stringify(opts.namespace)}: remove one of them`,
      );
      continue;
    }
    const namespace = own ?? opts.namespace;
    const key = `${o.kind}/${namespace}/${name}`;
    const before = seen.get(key);
    if (before) {
      problems.push(
        `${where}: ${o.kind.toLowerCase()}/${name} is also in ${before}: give each object once`,
      );
      continue;
    }
    seen.set(key, where);
    out.push({ object: { ...o, metadata: { ...o.metadata, namespace } }, origin: where });
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return out;
}
