// Dependencies (--deps) from parsed manifests, and the run's anchor Job: validation and
// rendering. Pure.
import { InputError } from '../core/errors.js';
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  PODS,
  SECRETS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../kube/resources.js';
import type { Job, KubeObject, OwnerReference, Pod, Workload } from '../kube/types.js';
import {
  ANNOTATION_ALIVE_UNTIL,
  ANNOTATION_HOLDER,
  ANNOTATION_LEASE,
  LABEL_TEMPLATE,
  labelProblems,
  placeDocument,
  runLabels,
  templateKey,
  type RenderOptions,
} from './jobs.js';
import { dnsLabelProblem } from './names.js';
import { describeOrigin, type DocumentOrigin, type ParsedDocument } from './parse.js';
import { withGeneratedName } from './shapes.js';

/** The kinds --deps accepts, by `apiVersion/kind`. */
export const DEPENDENCY_KINDS: ReadonlyMap<string, Resource> = new Map([
  ['v1/Pod', PODS],
  ['v1/Service', SERVICES],
  ['apps/v1/Deployment', DEPLOYMENTS],
  ['apps/v1/StatefulSet', STATEFULSETS],
  ['v1/ConfigMap', CONFIGMAPS],
  ['v1/Secret', SECRETS],
]);

/** A validated dependency, ready to create. */
export interface Dependency {
  origin: DocumentOrigin;
  res: Resource;
  name: string;
  namespace: string;
  /** The manifest with kubestep's labels, the namespace and the backstop deadline set. */
  object: KubeObject;
}

/** Options of {@link toDependencies}. */
export interface DependencyRenderOptions extends RenderOptions {
  /**
   * `activeDeadlineSeconds` for dependency Pods (a smaller one in the manifest is kept), so that
   * a killed run cannot leave them running; undefined: none added.
   */
  podDeadlineSeconds?: number | undefined;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that every document is a dependency kubestep can create and wait for (Pod, Service,
 * Deployment, StatefulSet, ConfigMap, Secret; named; valid labels; no duplicates) and returns
 * them in document order with kubestep's labels (`kubestep.dev/role: dependency` included) on the
 * object and its pod template, and the namespace set. Throws InputError listing every problem
 * with its file and document.
 */
export function toDependencies(
  docs: readonly ParsedDocument[],
  opts: DependencyRenderOptions,
): Dependency[] {
  const problems: string[] = [];
  const deps: Dependency[] = [];
  const seen = new Map<string, DocumentOrigin>();
  for (const doc of docs) {
    const { origin } = doc;
    const named = withGeneratedName(doc.object, opts.runId, origin);
    const object = named.object;
    const nameTemplate = named.nameTemplate ?? doc.nameTemplate;
    const found = dependencyProblems(object);
    let namespace = opts.namespace;
    const res = kindOf(object);
    // The namespace and duplicates are checked whatever else is wrong: all problems at once.
    if (res) namespace = placeDocument(object as KubeObject, res.kind, opts, origin, seen, found);
    if (found.length > 0 || !res) {
      problems.push(...found.map((p) => `${describeOrigin(origin)}: ${p}`));
      continue;
    }
    const obj = object as KubeObject;
    deps.push({
      origin,
      res,
      name: obj.metadata!.name!,
      namespace,
      object: renderDependency(obj, res, namespace, opts, nameTemplate),
    });
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return deps;
}

function kindOf(object: unknown): Resource | undefined {
  if (!isObj(object)) return undefined;
  return DEPENDENCY_KINDS.get(`${String(object.apiVersion)}/${String(object.kind)}`);
}

/** Every reason why `object` cannot be a dependency; empty when it can. */
export function dependencyProblems(object: unknown): string[] {
  if (!isObj(object)) return ['is not a YAML mapping: expected a Pod, Service, Deployment, ...'];
  const res = kindOf(object);
  if (!res) {
    const { apiVersion, kind } = object;
    const what =
      typeof kind === 'string'
        ? `a ${typeof apiVersion === 'string' ? `${apiVersion} ` : ''}${kind}`
        : 'an object without kind';
    const hint = kind === 'Job' ? ' (test Jobs go in -f)' : '';
    return [
      `is ${what}; --deps takes v1 Pods, Services, ConfigMaps and Secrets and apps/v1 Deployments and StatefulSets${hint}`,
    ];
  }
  const problems: string[] = [];
  const metadata = isObj(object.metadata) ? object.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    problems.push(
      `metadata.name is missing: name the ${String(object.kind)}, e.g. "postgres-\${RUN_ID}", or give metadata.generateName`,
    );
  } else {
    // DNS-1123 labels fit every kind; Services need the stricter DNS-1035 (a letter first).
    const p =
      dnsLabelProblem(name) ??
      (res === SERVICES && !/^[a-z]/.test(name) ? 'must start with a letter' : undefined);
    if (p) problems.push(`metadata.name "${name}" ${p}`);
  }
  if (metadata.namespace !== undefined) {
    const ns = metadata.namespace;
    const p = typeof ns === 'string' ? dnsLabelProblem(ns) : 'is not a string';
    if (p) problems.push(`metadata.namespace ${p}`);
  }
  problems.push(...labelProblems('metadata.labels', metadata.labels));
  if (res === DEPLOYMENTS || res === STATEFULSETS) {
    const spec = isObj(object.spec) ? object.spec : undefined;
    const template = spec && isObj(spec.template) ? spec.template : undefined;
    if (!template || !isObj(template.spec)) {
      problems.push('spec.template.spec is missing: it needs a pod template with containers');
    } else if (isObj(template.metadata)) {
      problems.push(...labelProblems('spec.template.metadata.labels', template.metadata.labels));
    }
    if (spec && Array.isArray(spec.volumeClaimTemplates) && spec.volumeClaimTemplates.length) {
      problems.push(
        'spec.volumeClaimTemplates is not supported: Kubernetes keeps such claims after the StatefulSet is deleted; use an emptyDir volume',
      );
    }
  }
  if (res === PODS) {
    const spec = isObj(object.spec) ? object.spec : undefined;
    if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) {
      problems.push('spec.containers is empty: a Pod needs at least one container');
    }
  }
  return problems;
}

function renderDependency(
  object: KubeObject,
  res: Resource,
  namespace: string,
  opts: DependencyRenderOptions,
  nameTemplate: string | undefined,
): KubeObject {
  const out = structuredClone(object) as KubeObject & { spec?: Obj };
  const labels = runLabels(opts.runId, 'dependency');
  const template = templateKey(
    String(object.kind),
    namespace,
    nameTemplate ?? object.metadata!.name!,
  );
  out.metadata = {
    ...out.metadata,
    namespace,
    labels: { ...out.metadata?.labels, ...labels, [LABEL_TEMPLATE]: template },
  };
  if (res === DEPLOYMENTS || res === STATEFULSETS) {
    const template = (out as Workload).spec!.template!;
    template.metadata = {
      ...template.metadata,
      labels: { ...template.metadata?.labels, ...labels },
    };
  }
  if (res === PODS && opts.podDeadlineSeconds !== undefined) {
    const spec = (out as Pod).spec!;
    spec.activeDeadlineSeconds = Math.min(
      spec.activeDeadlineSeconds ?? Infinity,
      opts.podDeadlineSeconds,
    );
  }
  return out;
}

/** Name of run `runId`'s anchor Job (run ids have at most 40 characters). */
export function anchorName(runId: string): string {
  return `kubestep-run-${runId}`;
}

/**
 * The heartbeat an anchor is created with: alive until `untilMs` (epoch), renewed by
 * `leaseSeconds`, by the process `holder` (a `kubestep run`; `up` leaves its anchor unheld, to be
 * shared by the runs of its run id).
 */
export interface Heartbeat {
  untilMs: number;
  leaseSeconds: number;
  holder?: string | undefined;
}

/**
 * The anchor Job of a run in one namespace: every object of the run is its dependent, so when
 * the cluster deletes it, the garbage collector deletes them all. With `completions: 0` it is
 * Complete at once without running a pod, and `ttlSecondsAfterFinished` makes the TTL controller
 * delete it after `lifetimeSeconds`: the backstop for a run that was killed before its cleanup.
 * Clusters without the TTL controller (Kubernetes < 1.21 without the TTLAfterFinished feature
 * gate) drop the field; the anchor then stays until `kubestep down` or gc. `heartbeat` goes into
 * the annotations that tell other runs (sweep, gc) whether this run is alive.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/ and
 * https://kubernetes.io/docs/concepts/architecture/garbage-collection/#owners-dependents
 */
export function anchorJob(
  runId: string,
  namespace: string,
  lifetimeSeconds: number,
  heartbeat: Heartbeat,
): Job {
  const labels = runLabels(runId, 'anchor');
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: anchorName(runId),
      namespace,
      labels,
      annotations: {
        'kubestep.dev/purpose':
          'owner of this run’s objects; the cluster deletes it and them after ttlSecondsAfterFinished if the run was killed',
        ...heartbeatAnnotations(heartbeat),
      },
    },
    spec: {
      completions: 0,
      parallelism: 0,
      ttlSecondsAfterFinished: Math.max(1, Math.ceil(lifetimeSeconds)),
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'anchor', image: 'registry.k8s.io/pause:3.6' }],
        },
      },
    },
  };
}

/** The annotations of a heartbeat (see gc/rules.ts, ANNOTATION_ALIVE_UNTIL). */
export function heartbeatAnnotations(h: Heartbeat): Record<string, string> {
  return {
    [ANNOTATION_ALIVE_UNTIL]: new Date(h.untilMs).toISOString(),
    [ANNOTATION_LEASE]: String(Math.ceil(h.leaseSeconds)),
    ...(h.holder ? { [ANNOTATION_HOLDER]: h.holder } : {}),
  };
}

/** `object` with an owner reference to the anchor Job `anchor` (same namespace). */
export function ownedBy<T extends KubeObject>(object: T, anchor: Job): T {
  const ref: OwnerReference = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: anchor.metadata!.name!,
    uid: anchor.metadata!.uid!,
  };
  return {
    ...object,
    metadata: {
      ...object.metadata,
      ownerReferences: [...(object.metadata?.ownerReferences ?? []), ref],
    },
  };
}

/**
 * The backstop lifetime of a run's objects, s: everything the run may legitimately take
 * (`--deps-timeout`, `--timeout`, and cleanup's `--grace` twice: for stale objects and at the
 * end) plus a minute of margin.
 */
export function backstopSeconds(limits: {
  depsTimeoutMs: number;
  timeoutMs: number;
  graceMs: number;
}): number {
  return Math.ceil((limits.depsTimeoutMs + limits.timeoutMs + 2 * limits.graceMs) / 1000) + 60;
}
