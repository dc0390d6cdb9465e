// Asking the API server whether the credentials may do something: one SelfSubjectAccessReview
// (what `kubectl auth can-i` sends).
// Source: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
import type { KubeApi } from './api.js';
import type { Resource } from './resources.js';
import type { KubeObject } from './types.js';

/** A request's attributes as SelfSubjectAccessReview takes them (`group` '' for the core API). */
export interface ResourceAttributes {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** The SelfSubjectAccessReview resource (cluster-scoped). */
const SELF_SUBJECT_ACCESS_REVIEWS: Resource = {
  api: '/apis/authorization.k8s.io/v1',
  plural: 'selfsubjectaccessreviews',
  kind: 'selfsubjectaccessreview',
};

interface AccessReview extends KubeObject {
  status?: { allowed?: boolean };
}

/**
 * Whether the credentials may do `attrs` (`status.allowed`). Errors are the client's (KubeApiError,
 * InfraError, the signal's reason).
 */
export async function canI(
  client: KubeApi,
  attrs: ResourceAttributes,
  signal: AbortSignal,
): Promise<boolean> {
  const { namespace, verb, group, resource, subresource } = attrs;
  const review = await client.create<AccessReview>(
    SELF_SUBJECT_ACCESS_REVIEWS,
    undefined,
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace, verb, group, resource, subresource } },
    } as AccessReview,
    signal,
  );
  return review.status?.allowed === true;
}

/** One rule of a SelfSubjectRulesReview's answer (as RBAC writes rules). */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** The SelfSubjectRulesReview resource (cluster-scoped). */
const SELF_SUBJECT_RULES_REVIEWS: Resource = {
  api: '/apis/authorization.k8s.io/v1',
  plural: 'selfsubjectrulesreviews',
  kind: 'selfsubjectrulesreview',
};

interface RulesReview extends KubeObject {
  status?: { resourceRules?: ResourceRule[]; incomplete?: boolean; evaluationError?: string };
}

/**
 * What the credentials may do in `namespace`, in one request (what `kubectl auth can-i --list`
 * sends): the rules, or undefined when the authorizer says they are incomplete (a webhook
 * authorizer, say), and single reviews must decide. Errors are the client's.
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access
 */
export async function rulesIn(
  client: KubeApi,
  namespace: string,
  signal: AbortSignal,
): Promise<ResourceRule[] | undefined> {
  const review = await client.create<RulesReview>(
    SELF_SUBJECT_RULES_REVIEWS,
    undefined,
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: { namespace },
    } as RulesReview,
    signal,
  );
  if (review.status?.incomplete) return undefined;
  return review.status?.resourceRules ?? [];
}

/**
 * Whether `rules` allow `attrs` (its namespace aside), as RBAC matches them: the verb, the API
 * group and the resource (`pods/log` for a subresource) each listed or `*`; a subresource also
 * by the star resource of it (`*` then `/log`). A rule limited to `resourceNames` does not count: kubestep's requests
 * name objects it has not made yet. Pure.
 * Source: kubernetes plugin/pkg/auth/authorizer/rbac (VerbMatches, APIGroupMatches, ResourceMatches)
 */
export function allowedBy(rules: readonly ResourceRule[], attrs: ResourceAttributes): boolean {
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const has = (list: readonly string[] | undefined, v: string) =>
    (list ?? []).some((x) => x === '*' || x === v);
  return rules.some(
    (r) =>
      (r.resourceNames ?? []).length === 0 &&
      has(r.verbs, attrs.verb) &&
      has(r.apiGroups, attrs.group) &&
      (r.resources ?? []).some(
        (x) =>
          x === '*' ||
          x === combined ||
          (attrs.subresource !== undefined && x === `*/${attrs.subresource}`),
      ),
  );
}

/**
 * Each check's answer: one SelfSubjectRulesReview per namespace decides what its rules allow;
 * a check they do not allow (or every check of a namespace whose rules are incomplete or could
 * not be read) is asked with its own SelfSubjectAccessReview, so that a refusal is always the
 * authorizer's own word. Errors of the single reviews are the client's.
 */
export async function mayDo(
  client: KubeApi,
  checks: readonly ResourceAttributes[],
  signal: AbortSignal,
): Promise<boolean[]> {
  const namespaces = [...new Set(checks.map((c) => c.namespace))];
  const rules = new Map(
    await Promise.all(
      namespaces.map(
        async (ns) =>
          [
            ns,
            await rulesIn(client, ns, signal).catch((err: unknown) => {
              if (signal.aborted) throw err;
              return undefined;
            }),
          ] as const,
      ),
    ),
  );
  return Promise.all(
    checks.map(async (c) => {
      const known = rules.get(c.namespace);
      return (known !== undefined && allowedBy(known, c)) || canI(client, c, signal);
    }),
  );
}
