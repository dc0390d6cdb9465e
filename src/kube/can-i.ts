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
