// Which permissions a run needs, and checking them before anything is created: one
// SelfSubjectAccessReview per verb, resource and namespace. Pure planning, imperative check.
import { InfraError, messageOf } from '../core/errors.js';
import type { KubeApi } from '../kube/api.js';
import {
  DEPLOYMENTS,
  ENDPOINTS,
  EVENTS,
  JOBS,
  PODS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../kube/resources.js';
import { mayDo, type ResourceAttributes } from '../kube/can-i.js';

/** One permission: `verb` on `resource` (with `subresource`) of API `group` in `namespace`. */
export type AccessCheck = ResourceAttributes;

/** The API group of a resource: '' for the core API. */
function groupOf(res: Resource): string {
  return res.api.startsWith('/apis/') ? res.api.split('/')[2]! : '';
}

const check = (namespace: string, verb: string, res: Resource, subresource?: string) => ({
  namespace,
  verb,
  group: groupOf(res),
  resource: res.plural,
  ...(subresource ? { subresource } : {}),
});

/**
 * The permissions a run needs, per namespace, as kubestep uses them: for test Jobs (and anchor
 * Jobs) get/list/watch/create/delete/patch jobs, list/watch pods, get pods/log, list events; for
 * each dependency get/list/create/delete its kind and get/list/create/delete/patch jobs, list/watch Pods (and Deployments, StatefulSets,
 * Endpoints for those kinds), get pods/log, list events; with `keep`, patch on each dependency's
 * kind. Deduplicated, in a stable order. These are the rules of deploy/rbac.yaml, and for Secrets
 * and `keep` those of deploy/rbac-optional.yaml ({@link isOptionalRight}).
 */
export function requiredAccess(plan: {
  testNamespaces: Iterable<string>;
  dependencies: Iterable<{ res: Resource; namespace: string }>;
  /** Objects may be kept (`--cleanup never` or `on-success`): they are detached (patch). */
  keep?: boolean;
}): AccessCheck[] {
  const all: AccessCheck[] = [];
  for (const ns of plan.testNamespaces) {
    // patch: the heartbeat on the run's anchor Job.
    for (const verb of ['create', 'get', 'list', 'watch', 'delete', 'patch'])
      all.push(check(ns, verb, JOBS));
    all.push(check(ns, 'list', PODS), check(ns, 'watch', PODS), check(ns, 'get', PODS, 'log'));
    all.push(check(ns, 'list', EVENTS));
  }
  for (const d of plan.dependencies) {
    const ns = d.namespace;
    // list: the sweep of earlier runs' leftovers.
    for (const verb of ['create', 'get', 'list', 'delete']) all.push(check(ns, verb, d.res));
    // The anchor Job that the cluster uses to delete the run's objects if kubestep is killed,
    // with its heartbeat (patch); list: the sweep finds earlier runs by their anchors.
    for (const verb of ['create', 'get', 'list', 'delete', 'patch'])
      all.push(check(ns, verb, JOBS));
    all.push(check(ns, 'list', PODS), check(ns, 'watch', PODS), check(ns, 'get', PODS, 'log'));
    all.push(check(ns, 'list', EVENTS));
    if (d.res === DEPLOYMENTS || d.res === STATEFULSETS) {
      all.push(check(ns, 'list', d.res), check(ns, 'watch', d.res));
    }
    if (d.res === SERVICES) all.push(check(ns, 'list', ENDPOINTS), check(ns, 'watch', ENDPOINTS));
    if (plan.keep) all.push(check(ns, 'patch', d.res));
  }
  const seen = new Set<string>();
  return all.filter((c) => {
    const k = describeCheck(c) + ' ' + c.namespace;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Whether a right is one of deploy/rbac-optional.yaml's (Secrets; patch on a dependency kind)
 * rather than deploy/rbac.yaml's.
 */
export function isOptionalRight(c: AccessCheck): boolean {
  return c.resource === 'secrets' || (c.verb === 'patch' && c.resource !== 'jobs');
}

/** `create jobs.batch`, `get pods/log`: as `kubectl auth can-i` takes them. */
export function describeCheck(c: AccessCheck): string {
  return `${c.verb} ${c.resource}${c.group ? `.${c.group}` : ''}${c.subresource ? `/${c.subresource}` : ''}`;
}

/**
 * Asks the API server whether the credentials may do each check ({@link mayDo}: one
 * SelfSubjectRulesReview per namespace, single reviews for the rest); throws InfraError (exit 3)
 * naming every missing verb, resource and namespace, pointing to deploy/rbac.yaml. Answers
 * nothing when the API server cannot answer (returns the reason, for the debug log): the dry run
 * then finds the problem.
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
export async function checkAccess(
  client: KubeApi,
  checks: readonly AccessCheck[],
  signal: AbortSignal,
): Promise<string | undefined> {
  let answers: boolean[];
  try {
    answers = await mayDo(client, checks, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return `permission check skipped: ${messageOf(err)}`;
  }
  const missing = checks.filter((_, i) => !answers[i]);
  if (missing.length === 0) return undefined;
  const byNs = new Map<string, string[]>();
  for (const m of missing)
    byNs.set(m.namespace, [...(byNs.get(m.namespace) ?? []), describeCheck(m)]);
  // Nothing allowed at all: a namespace-scoped account asking about another (or a mistyped)
  // namespace gets the same answer as one whose namespace does not exist.
  const lines = [...byNs].map(
    ([ns, what]) =>
      `in namespace ${ns}: ${what.join(', ')}${
        what.length === checks.filter((c) => c.namespace === ns).length
          ? ` (nothing is allowed there: check that namespace ${ns} exists and is the one meant)`
          : ''
      }`,
  );
  const files = [
    ...(missing.some((m) => !isOptionalRight(m)) ? ['deploy/rbac.yaml'] : []),
    ...(missing.some(isOptionalRight)
      ? ['deploy/rbac-optional.yaml (Secret dependencies, --cleanup never or on-success)']
      : []),
  ];
  throw new InfraError(
    `the credentials lack permissions kubestep needs (nothing was created):\n  ${lines.join('\n  ')}\nGrant them with ${files.join(' and ')} (README.md, Permissions), e.g. kubectl apply -n NAMESPACE -f ${files[0]!.split(' ')[0]!} and run kubestep as that ServiceAccount; check with: kubectl auth can-i ${describeCheck(missing[0]!)} -n ${missing[0]!.namespace}`,
  );
}
