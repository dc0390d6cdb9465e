// The Kubernetes API verbs kubestep uses: what every shell above kube/ takes, so that it can be
// given the real client (client.ts, over the transport) or a small fake in a unit test.
import type { Readable } from 'node:stream';
import type { Resource } from './resources.js';
import type { KubeObject, ObjectList, Status, WatchEvent } from './types.js';

/** Options of {@link KubeApi.logs}. */
export interface LogStreamOptions {
  follow: boolean;
  timestamps: boolean;
  /** RFC 3339, whole seconds. */
  sinceTime?: string | undefined;
  /** The previous (restarted) instance of the container. */
  previous?: boolean;
  /** Only the last lines. */
  tailLines?: number;
  /** At most this many bytes (timestamps included), possibly ending inside a line. */
  limitBytes?: number;
}

/** Options of {@link KubeApi.delete}. */
export interface DeleteOptions {
  propagationPolicy: 'Foreground' | 'Background' | 'Orphan';
  /** Precondition: only the object with this uid (a newer one of the same name is kept). */
  uid?: string | undefined;
  /** Pods: seconds between SIGTERM and SIGKILL instead of terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number | undefined;
}

/** One group version's resources, as discovery answers (`kind: APIResourceList`). */
export interface APIResourceList {
  groupVersion: string;
  resources: {
    /** The plural, or `plural/subresource`. */
    name: string;
    kind: string;
    namespaced: boolean;
    verbs?: string[];
  }[];
}

/** What `GET /version` answers (the fields kubestep reads). */
export interface ServerVersion {
  gitVersion: string;
  major: string;
  /** May carry a `+` (`20+` on some providers). */
  minor: string;
}

/** Options of list and watch calls. */
export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * The API verbs. Every call takes the run's AbortSignal and rejects with its reason when it
 * aborts; failures are KubeApiError (an answer of the API server) or InfraError (transient
 * failures that outlasted the retry budget). Implemented by KubeApi (client.ts).
 */
export interface KubeApi {
  /** The object, or undefined when it does not exist (404). */
  get<T extends KubeObject>(
    res: Resource,
    ns: string,
    name: string,
    signal: AbortSignal,
  ): Promise<T | undefined>;
  /** Creates the object (`ns` undefined: cluster-scoped) and returns it as stored; `dryRun`: nothing is stored. */
  create<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    body: T,
    signal: AbortSignal,
    opts?: { dryRun?: boolean },
  ): Promise<T>;
  /** Deletes the object; `absent`: not there (or a newer one, with `uid`), `deleting`: still there with a deletionTimestamp. */
  delete(
    res: Resource,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions,
    signal: AbortSignal,
  ): Promise<'absent' | 'gone' | 'deleting'>;
  /** JSON merge patch; undefined when the object does not exist. */
  patch<T extends KubeObject>(
    res: Resource,
    ns: string,
    name: string,
    patch: unknown,
    signal: AbortSignal,
  ): Promise<T | undefined>;
  /**
   * Server-side apply of `body` (with its apiVersion, kind and metadata.name) as field manager
   * `opts.manager`; `force` takes the fields other managers own; `dryRun` answers the object as
   * it would be, storing nothing. A conflict is a KubeApiError 409 whose message names each field
   * and its manager. Source: https://kubernetes.io/docs/reference/using-api/server-side-apply/
   */
  apply<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    name: string,
    body: KubeObject,
    opts: { manager: string; force?: boolean; dryRun?: boolean },
    signal: AbortSignal,
  ): Promise<T>;
  /**
   * The resources an API group version serves (`/api/v1`, `/apis/apps/v1`), or undefined when the
   * server does not serve it (404). Source:
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#discovery-api
   */
  discover(api: string, signal: AbortSignal): Promise<APIResourceList | undefined>;
  /**
   * The API server's version (`GET /version`: `gitVersion` `v1.20.15`, `major`, `minor`).
   * Source: https://kubernetes.io/docs/reference/using-api/#api-versioning
   */
  version(signal: AbortSignal): Promise<ServerVersion>;
  /** Lists objects in `ns` (undefined: all namespaces). */
  list<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    opts: ListOptions,
    signal: AbortSignal,
  ): Promise<ObjectList<T>>;
  /** Watches from `resourceVersion` until the server ends the watch, it drops (throws) or `signal` aborts. */
  watch<T>(
    res: Resource,
    ns: string,
    opts: ListOptions & { resourceVersion: string; timeoutSeconds: number },
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T | Status>>;
  /** A container's log stream (bytes). */
  logs(
    ns: string,
    pod: string,
    container: string,
    opts: LogStreamOptions,
    signal: AbortSignal,
  ): Promise<Readable>;
  /**
   * GET `path` (with its query) of `port` of a pod through the API server (`get pods/proxy`): the
   * response body as bytes. One attempt, no retries (callers have another way); an answer other
   * than 2xx is a KubeApiError. `headers` go to the pod.
   * Source: https://kubernetes.io/docs/tasks/access-application-cluster/access-cluster-services/#manually-constructing-apiserver-proxy-urls
   */
  proxyGet(
    ns: string,
    pod: string,
    port: number,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Readable>;
}
