// Listing a kind that the credentials may not list (Secrets without the optional Role).
import type { KubeApi, ListOptions } from '../kube/api.js';
import { isStatus } from '../kube/errors.js';
import type { Resource } from '../kube/resources.js';
import type { KubeObject, ObjectList } from '../kube/types.js';

/**
 * Lists `res` in `ns` (all namespaces when undefined), or gives undefined when the API server
 * answers 403 Forbidden (the credentials may not list that kind: deploy/rbac.yaml without the
 * optional Role cannot list Secrets). Other errors are thrown.
 */
export async function listIfAllowed<T extends KubeObject>(
  client: KubeApi,
  res: Resource,
  ns: string | undefined,
  opts: ListOptions,
  signal: AbortSignal,
): Promise<ObjectList<T> | undefined> {
  try {
    return await client.list<T>(res, ns, opts, signal);
  } catch (err) {
    if (isStatus(err, 403)) return undefined;
    throw err;
  }
}
