// Which resource serves a kind: the API server's discovery, asked once per group version. Lets
// `deploy` apply any kind the server serves, custom resources included.
// Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#discovery-api
import type { APIResourceList, KubeApi } from './api.js';
import type { Resource } from './resources.js';

/** The API path of an apiVersion: `v1` → `/api/v1`, `apps/v1` → `/apis/apps/v1`. */
export function apiPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** A kind as the server serves it. */
export interface ServedKind {
  res: Resource;
  namespaced: boolean;
}

/** The resource of `kind` in a discovery answer (not a subresource), or undefined. Pure. */
export function resourceIn(
  list: APIResourceList,
  api: string,
  kind: string,
): ServedKind | undefined {
  const r = list.resources.find((x) => x.kind === kind && !x.name.includes('/'));
  return r
    ? { res: { api, plural: r.name, kind: kind.toLowerCase() }, namespaced: r.namespaced }
    : undefined;
}

/** Discovery answers, each group version asked at most once. */
export class Discovery {
  private readonly lists = new Map<string, Promise<APIResourceList | undefined>>();

  constructor(private readonly client: Pick<KubeApi, 'discover'>) {}

  /**
   * The resource serving `kind` of `apiVersion`, or undefined when the server does not serve it
   * (an unknown group version, or a kind it does not have). Errors are the client's.
   */
  async kind(
    apiVersion: string,
    kind: string,
    signal: AbortSignal,
  ): Promise<ServedKind | undefined> {
    const api = apiPath(apiVersion);
    let list = this.lists.get(api);
    if (!list) {
      list = this.client.discover(api, signal);
      this.lists.set(api, list);
      list.catch(() => this.lists.delete(api));
    }
    const answer = await list;
    return answer ? resourceIn(answer, api, kind) : undefined;
  }
}
