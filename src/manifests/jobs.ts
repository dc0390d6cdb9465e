// Test Jobs from parsed manifests: validation and rendering (labels, namespace). Pure.
import { createHash } from 'node:crypto';
import { InputError } from '../core/errors.js';
import type { Job, KubeObject } from '../kube/types.js';
import { dnsLabelProblem, labelKeyProblem, labelValueProblem } from './names.js';
import { describeOrigin, type DocumentOrigin, type ParsedDocument } from './parse.js';
import { isTestPod, podAsJob, withGeneratedName } from './shapes.js';

/** Label on everything kubestep creates. Source: Kubernetes' recommended labels. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Value of {@link LABEL_MANAGED_BY}. */
export const MANAGED_BY = 'kubestep';
/** Label carrying the run id; pods of a Job inherit it through the pod template. */
export const LABEL_RUN_ID = 'kubestep.dev/run-id';

/** A validated test Job, ready to create. */
export interface TestJob {
  origin: DocumentOrigin;
  name: string;
  namespace: string;
  /** The manifest with kubestep's labels and the namespace set. */
  job: Job;
}

/** Options of {@link toTestJobs}. */
export interface RenderOptions {
  /** Namespace for documents that name none. */
  namespace: string;
  /** True when the namespace came from --namespace: a document naming another one is an error. */
  namespaceIsExplicit: boolean;
  runId: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that every document is a batch/v1 Job that can run as a test (named, with containers,
 * `restartPolicy` Never or OnFailure, valid labels, no duplicate names) and returns them with
 * kubestep's labels (`app.kubernetes.io/managed-by`, `kubestep.dev/run-id`) on the Job and its
 * pod template, and the namespace set. Throws InputError listing every problem with its file and
 * document; nothing is rendered unless all documents are valid.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#writing-a-job-spec
 */
export function toTestJobs(docs: readonly ParsedDocument[], opts: RenderOptions): TestJob[] {
  const problems: string[] = [];
  const jobs: TestJob[] = [];
  const seen = new Map<string, DocumentOrigin>();
  if (docs.length === 0) {
    throw new InputError('the manifests hold no documents: give at least one batch/v1 Job with -f');
  }
  for (const doc of docs) {
    const { origin } = doc;
    const where = describeOrigin(origin);
    const asJob = isTestPod(doc.object) ? podAsJob(doc.object as Obj) : doc.object;
    const named = withGeneratedName(asJob, opts.runId, origin);
    const object = named.object;
    const nameTemplate = named.nameTemplate ?? doc.nameTemplate;
    const found = jobProblems(object);
    const job = object as Job;
    let namespace = opts.namespace;
    // The namespace and duplicates are checked whatever else is wrong: all problems at once.
    if (isObj(object) && object.kind === 'Job')
      namespace = placeDocument(job, 'Job', opts, origin, seen, found);
    if (found.length > 0) {
      problems.push(...found.map((p) => `${where}: ${p}`));
      continue;
    }
    jobs.push({
      origin,
      name: job.metadata!.name!,
      namespace,
      job: renderJob(job, namespace, opts.runId, nameTemplate),
    });
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return jobs;
}

/**
 * The namespace of a valid document (its own, else `opts.namespace`), adding to `found` when it
 * contradicts an explicit --namespace or repeats the kind and name of an earlier document (`seen`
 * maps `kind/namespace/name` to where it was first defined).
 */
export function placeDocument(
  object: KubeObject,
  kind: string,
  opts: RenderOptions,
  origin: DocumentOrigin,
  seen: Map<string, DocumentOrigin>,
  found: string[],
): string {
  const docNs = object.metadata?.namespace;
  if (docNs !== undefined && docNs !== opts.namespace && opts.namespaceIsExplicit) {
    found.push(
      `metadata.namespace is "${docNs}" but --namespace is "${opts.namespace}": remove one of them`,
    );
  }
  const namespace = docNs ?? opts.namespace;
  const key = `${kind}/${namespace}/${object.metadata?.name ?? ''}`;
  const earlier = object.metadata?.name ? seen.get(key) : undefined;
  if (!object.metadata?.name) return namespace;
  if (earlier) {
    found.push(
      `${kind} "${namespace}/${object.metadata?.name ?? ''}" is also defined in ${describeOrigin(earlier)}: give each ${kind} its own name`,
    );
  } else {
    seen.set(key, origin);
  }
  return namespace;
}

/** What does take a kind that -f refuses: the hint after the refusal. */
function kindHint(kind: unknown, apiVersion: unknown): string {
  switch (kind) {
    case 'Job':
      return ` (apiVersion ${String(apiVersion)} is not served for Jobs: use batch/v1)`;
    case 'CronJob':
      return ' (a CronJob runs on a schedule, not as one step: run its jobTemplate as a Job, i.e. kind: Job with its jobTemplate.spec as spec)';
    case 'List':
      return ' (a List takes apiVersion v1 and an items array)';
    case 'Pod':
      return ' (a Pod runs as a test with spec.restartPolicy Never or OnFailure; one that keeps running is a dependency: --deps)';
    case 'Service':
    case 'Deployment':
    case 'StatefulSet':
    case 'ConfigMap':
    case 'Secret':
      return ' (--deps takes Pods, Services, Deployments, StatefulSets, ConfigMaps and Secrets that the tests need)';
    default:
      return '';
  }
}

/** Every reason why `object` cannot run as a test Job; empty when it can. */
export function jobProblems(object: unknown): string[] {
  if (!isObj(object)) return ['is not a YAML mapping: expected a batch/v1 Job'];
  const { apiVersion, kind } = object;
  if (kind !== 'Job' || apiVersion !== 'batch/v1') {
    const what =
      typeof kind === 'string'
        ? `a ${typeof apiVersion === 'string' ? `${apiVersion} ` : ''}${kind}`
        : 'an object without kind';
    return [`is ${what}; -f takes batch/v1 Jobs only${kindHint(kind, apiVersion)}`];
  }
  const problems: string[] = [];
  const metadata = isObj(object.metadata) ? object.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    problems.push(
      'metadata.name is missing: name the Job, e.g. "tests-${RUN_ID}", or give metadata.generateName',
    );
  } else {
    const p = dnsLabelProblem(name);
    if (p) problems.push(`metadata.name "${name}" ${p}`);
  }
  if (metadata.namespace !== undefined) {
    const ns = metadata.namespace;
    const p = typeof ns === 'string' ? dnsLabelProblem(ns) : 'is not a string';
    if (p) problems.push(`metadata.namespace ${p}`);
  }
  problems.push(...labelProblems('metadata.labels', metadata.labels));
  const spec = isObj(object.spec) ? object.spec : undefined;
  const template = spec && isObj(spec.template) ? spec.template : undefined;
  const podSpec = template && isObj(template.spec) ? template.spec : undefined;
  if (!podSpec) {
    problems.push('spec.template.spec is missing: a Job needs a pod template with containers');
    return problems;
  }
  if (template && isObj(template.metadata)) {
    problems.push(...labelProblems('spec.template.metadata.labels', template.metadata.labels));
  }
  const containers = podSpec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    problems.push('spec.template.spec.containers is empty: a Job needs at least one container');
  }
  for (const [field, list] of [
    ['initContainers', podSpec.initContainers],
    ['containers', containers],
  ] as const) {
    if (!Array.isArray(list)) continue;
    list.forEach((c, i) => {
      if (!isObj(c) || typeof c.name !== 'string' || c.name === '')
        problems.push(`spec.template.spec.${field}[${i}] has no name`);
      if (!isObj(c) || typeof c.image !== 'string' || c.image === '')
        problems.push(`spec.template.spec.${field}[${i}] has no image`);
    });
  }
  const restartPolicy = podSpec.restartPolicy;
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    const now =
      restartPolicy === undefined
        ? 'is not set (the Pod default, Always)'
        : `is ${JSON.stringify(restartPolicy)}`;
    problems.push(
      `spec.template.spec.restartPolicy ${now}; a Job needs Never or OnFailure: add "restartPolicy: Never"`,
    );
  }
  return problems;
}

/** Problems of a `labels` field (keys and values), prefixed with `field`. */
export function labelProblems(field: string, labels: unknown): string[] {
  if (labels === undefined || labels === null) return [];
  if (!isObj(labels)) return [`${field} is not a mapping`];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const kp = labelKeyProblem(k);
    if (kp) problems.push(`${field}: key "${k}" ${kp}`);
    if (typeof v !== 'string') problems.push(`${field}.${k} is not a string: quote it`);
    else {
      const vp = labelValueProblem(v);
      if (vp) problems.push(`${field}.${k} value "${v}" ${vp}`);
    }
  }
  return problems;
}

/**
 * Label naming the manifest document an object came from, the same in every run: a hash of its
 * kind, namespace and `metadata.name` as written (`tests-${RUN_ID}`). The sweep at the start of a
 * run finds earlier runs of the same manifests by it.
 */
export const LABEL_TEMPLATE = 'kubestep.dev/template';

/**
 * The value of {@link LABEL_TEMPLATE}: 16 hex digits of the SHA-256 of `kind/namespace/name`,
 * with `nameTemplate` the name before substitution (the rendered name when unknown).
 */
export function templateKey(kind: string, namespace: string, nameTemplate: string): string {
  return createHash('sha256')
    .update(`${kind}/${namespace}/${nameTemplate}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Label on a Namespace that lets `kubestep gc --all-namespaces` collect there (value
 * {@link GC_OPT_IN}); gc in one namespace (`-n`) needs no label.
 */
export const LABEL_GC = 'kubestep.dev/gc';
export const GC_OPT_IN = 'enabled';

/** Label telling test Jobs, dependencies and the run's anchor Job apart. */
export const LABEL_ROLE = 'kubestep.dev/role';

/**
 * Annotation on a run's anchor Job: until when (RFC 3339) the run's kubestep is known to be
 * alive. A running `kubestep run` renews it (see {@link ANNOTATION_LEASE}); `kubestep up` sets it
 * to the end of `--lifetime`. Modelled on coordination.k8s.io Leases (`renewTime` +
 * `leaseDurationSeconds`). Source: https://kubernetes.io/docs/concepts/architecture/leases/
 */
export const ANNOTATION_ALIVE_UNTIL = 'kubestep.dev/alive-until';
/**
 * Annotation on the anchor of a `kubestep run`: the process that holds the run (host name and a
 * random token). While alive-until is in the future, no other process takes over the run's
 * objects (a second run given the same --run-id is refused). `up` leaves it unset.
 */
export const ANNOTATION_HOLDER = 'kubestep.dev/holder';
/** Annotation on the anchor: the lease, s (how far each renewal moves alive-until ahead). */
export const ANNOTATION_LEASE = 'kubestep.dev/lease-seconds';
/** Values of {@link LABEL_ROLE}. */
export type Role = 'test' | 'dependency' | 'anchor';

/** The labels kubestep puts on everything of run `runId`. */
export function runLabels(runId: string, role?: Role): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_RUN_ID]: runId };
  if (role) labels[LABEL_ROLE] = role;
  return labels;
}

/** Label selector of everything of run `runId`, e.g. for `kubectl delete -l`. */
export function runSelector(runId: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_RUN_ID}=${runId}`;
}

function renderJob(job: Job, namespace: string, runId: string, nameTemplate?: string): Job {
  const out = structuredClone(job);
  const labels = runLabels(runId, 'test');
  const template = templateKey('Job', namespace, nameTemplate ?? job.metadata!.name!);
  out.metadata = {
    ...out.metadata,
    namespace,
    labels: { ...out.metadata?.labels, ...labels, [LABEL_TEMPLATE]: template },
  };
  const pod = out.spec!.template!;
  pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, ...labels } };
  return out;
}
