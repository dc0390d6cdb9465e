// The Kubernetes API as kubestep uses it. Adapter: the only module that sends requests.
//
// Why our own transport over undici rather than client-node's generated API classes: kubestep
// needs byte streams it controls (log follow with sinceTime resumption, watches read line by line
// with bookmarks and timeoutSeconds), one retry policy for every verb (p-retry, Retry-After,
// a budget in ms), typed errors that never print a raw ApiException, and AbortSignal on every
// call; the generated classes give none of these, and their models and serializers cost ~10 MB
// of memory a run. client-node still does what it is good at: kubeconfig loading and
// credentials (exec plugins, token files, client certificates, auth providers), through
// KubeConfig.applyToHTTPSOptions.
import type { KubeConfig } from '@kubernetes/client-node';
import pRetry from 'p-retry';
import { createHash } from 'node:crypto';
import type { RequestOptions } from 'node:https';
import type { Readable } from 'node:stream';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { sleep } from '../core/abort.js';
import { InfraError, messageOf } from '../core/errors.js';
import type {
  APIResourceList,
  DeleteOptions,
  KubeApi,
  ListOptions,
  LogStreamOptions,
  ServerVersion,
} from './api.js';
import { LineSplitter } from './line-splitter.js';
import { describeNetworkError, isStatus, isTransient, KubeApiError } from './errors.js';
import { PODS, type Resource } from './resources.js';
import type { KubeObject, ObjectList, Status, WatchEvent } from './types.js';

/** How hard to retry transient failures. */
export interface RetryPolicy {
  /** Give up after this long, ms. */
  maxRetryTimeMs: number;
  minDelayMs: number;
  maxDelayMs: number;
}

/** Default: up to 60 s of retries, 250 ms doubling to 5 s between them. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxRetryTimeMs: 60_000,
  minDelayMs: 250,
  maxDelayMs: 5_000,
};

/** Called before each retry, for the log: what failed and the delay before the next try. */
export type RetryListener = (what: string, err: unknown, delayMs: number) => void;

/**
 * A small Kubernetes client over one connection pool. Credentials come from the KubeConfig on
 * every request, so exec plugins and token files refresh as kubectl's do. Non-streaming calls are
 * retried on transient failures (network, 408, 429, 5xx, honouring Retry-After) with backoff;
 * other failures throw {@link KubeApiError} at once, and a transient one that outlasts the retry
 * policy throws InfraError.
 */
export class KubeClient implements KubeApi {
  /** The pool for the TLS credentials in use, by their key (see {@link tlsKey}). */
  private pool: { key: string; dispatcher: Dispatcher } | undefined;
  /** The credentials being loaded: concurrent requests share one exec plugin run. */
  private loading: Promise<Credentials> | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly onRetry: RetryListener = () => {},
    /** The bearer token of each request when the KubeConfig's user has none (--server, GKE). */
    private readonly token?: () => Promise<string>,
  ) {}

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(
    res: Resource,
    ns: string,
    name: string,
    signal: AbortSignal,
  ): Promise<T | undefined> {
    return unlessAbsent(
      this.json<T>('GET', `${res.kind}/${name}`, objectPath(res, ns, name), {}, undefined, signal),
    );
  }

  /**
   * Creates the object (`ns` undefined: a cluster-scoped one, e.g. a Namespace) and returns it
   * as stored. With `dryRun` the API server validates and
   * admits it without storing anything (a name that exists already answers 409 after validation),
   * with strict field validation (`fieldValidation=Strict`: an unknown or duplicate field is a 400
   * on servers that support it, 1.25+; older ones ignore the parameter and drop such fields).
   * Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run and
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
   */
  async create<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    body: T,
    signal: AbortSignal,
    opts: { dryRun?: boolean } = {},
  ): Promise<T> {
    const query = opts.dryRun ? { dryRun: 'All', fieldValidation: 'Strict' } : {};
    return this.json<T>(
      'POST',
      `${res.kind}/${body.metadata?.name ?? ''}`,
      collectionPath(res, ns),
      query,
      body,
      signal,
      opts.dryRun ? 'dry-run create' : 'create',
    );
  }

  /**
   * Deletes the object (`ns` undefined: a cluster-scoped one) with `propagationPolicy`
   * (Foreground: dependents such as a Job's pods go first; Background: the garbage collector
   * removes them after; Orphan: they stay, without the owner reference). `uid` adds a precondition so that a newer object of the same name is
   * kept; `gracePeriodSeconds` shortens a pod's terminationGracePeriodSeconds. Returns `absent` when it was not there (or was a newer one), `gone` when the answer shows
   * it deleted at once, `deleting` when it still exists with a deletionTimestamp (finalizers,
   * graceful pod termination).
   * Source: https://kubernetes.io/docs/concepts/architecture/garbage-collection/
   */
  async delete(
    res: Resource,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions,
    signal: AbortSignal,
  ): Promise<'absent' | 'gone' | 'deleting'> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: opts.propagationPolicy,
      ...(opts.gracePeriodSeconds !== undefined
        ? { gracePeriodSeconds: opts.gracePeriodSeconds }
        : {}),
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
    };
    try {
      const answer = await this.json<KubeObject>(
        'DELETE',
        `${res.kind}/${name}`,
        objectPath(res, ns, name),
        {},
        body,
        signal,
        'delete',
      );
      // The API answers the object (with deletionTimestamp while it lingers) or a Status. An
      // object with no grace period and no finalizers (an ended pod) was removed at once: its
      // answer carries deletionTimestamp and deletionGracePeriodSeconds 0.
      const m = answer.kind !== 'Status' ? answer.metadata : undefined;
      const atOnce = m?.deletionGracePeriodSeconds === 0 && !m.finalizers?.length;
      return m?.deletionTimestamp && !atOnce ? 'deleting' : 'gone';
    } catch (err) {
      // 404: gone already. 409 on a uid precondition: a newer object of that name, not ours.
      if (isStatus(err, 404) || (opts.uid && isStatus(err, 409))) return 'absent';
      throw err;
    }
  }

  /**
   * Changes the object with a JSON merge patch (RFC 7386) and returns it as stored; undefined
   * when it does not exist.
   * Source: https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
   */
  async patch<T extends KubeObject>(
    res: Resource,
    ns: string,
    name: string,
    patch: unknown,
    signal: AbortSignal,
  ): Promise<T | undefined> {
    return unlessAbsent(
      this.json<T>(
        'PATCH',
        `${res.kind}/${name}`,
        objectPath(res, ns, name),
        {},
        patch,
        signal,
        'patch',
        'application/merge-patch+json',
      ),
    );
  }

  async apply<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    name: string,
    body: KubeObject,
    opts: { manager: string; force?: boolean; dryRun?: boolean },
    signal: AbortSignal,
  ): Promise<T> {
    const query: Record<string, string | undefined> = { fieldManager: opts.manager };
    if (opts.force) query.force = 'true';
    if (opts.dryRun) query.dryRun = 'All';
    // JSON is YAML: the apply content type takes it as it is.
    return this.json<T>(
      'PATCH',
      `${res.kind}/${name}`,
      objectPath(res, ns, name),
      query,
      body,
      signal,
      'apply',
      'application/apply-patch+yaml',
    );
  }

  async discover(api: string, signal: AbortSignal): Promise<APIResourceList | undefined> {
    try {
      return await this.json<APIResourceList>(
        'GET',
        `discovery ${api}`,
        api,
        {},
        undefined,
        signal,
      );
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** The API server's version (`GET /version`). */
  async version(signal: AbortSignal): Promise<ServerVersion> {
    return this.json<ServerVersion>('GET', 'version', '/version', {}, undefined, signal);
  }

  /**
   * Lists objects in `ns` (undefined: in all namespaces); `metadata.resourceVersion` of the
   * answer is where a watch starts.
   */
  async list<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    opts: ListOptions,
    signal: AbortSignal,
  ): Promise<ObjectList<T>> {
    return this.json<ObjectList<T>>(
      'GET',
      res.plural,
      collectionPath(res, ns),
      { ...opts },
      undefined,
      signal,
      'list',
    );
  }

  /**
   * Watches objects from `resourceVersion` and yields each event until the server ends the watch
   * (after `timeoutSeconds`), the connection drops (throws), or `signal` aborts. An expired
   * resourceVersion arrives as an ERROR event whose object is a Status with code 410.
   * Opening the watch is retried like other calls; a drop mid-stream is for the caller to handle.
   * Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
   */
  async *watch<T>(
    res: Resource,
    ns: string,
    opts: ListOptions & { resourceVersion: string; timeoutSeconds: number },
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T | Status>> {
    const query = {
      ...opts,
      watch: 'true',
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(opts.timeoutSeconds),
    };
    const body = await this.withRetry(`watch ${res.plural}`, signal, () =>
      this.open(
        'GET',
        `watch ${res.plural}`,
        collectionPath(res, ns),
        query,
        signal,
        (opts.timeoutSeconds + 30) * 1000,
      ),
    );
    const lines = new LineSplitter();
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        for (const { text } of lines.push(chunk)) {
          if (text.trim() === '') continue;
          yield JSON.parse(text) as WatchEvent<T | Status>;
        }
      }
    } finally {
      body.destroy();
    }
  }

  /**
   * Opens a container's log stream (bytes; with `timestamps` every line starts with an RFC 3339
   * timestamp and a space). Opening is retried on transient failures; the stream itself may end
   * or throw at any time, and the caller resumes it.
   * Source: https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod
   */
  async logs(
    ns: string,
    pod: string,
    container: string,
    opts: LogStreamOptions,
    signal: AbortSignal,
  ): Promise<Readable> {
    const query: Record<string, string> = {
      container,
      follow: String(opts.follow),
      timestamps: String(opts.timestamps),
    };
    if (opts.sinceTime) query.sinceTime = opts.sinceTime;
    if (opts.previous) query.previous = 'true';
    if (opts.tailLines !== undefined) query.tailLines = String(opts.tailLines);
    if (opts.limitBytes !== undefined) query.limitBytes = String(opts.limitBytes);
    const what = `logs pod/${pod} -c ${container}`;
    // An idle log (a test that prints nothing for a while) must not count as a dead stream.
    return this.withRetry(what, signal, () =>
      this.open('GET', what, `${objectPath(PODS, ns, pod)}/log`, query, signal, 0),
    );
  }

  async proxyGet(
    ns: string,
    pod: string,
    port: number,
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Readable> {
    const [p, q] = path.split('?', 2) as [string, string | undefined];
    const query = Object.fromEntries(new URLSearchParams(q ?? ''));
    const what = `get pod/${pod}:${port}${p} (pods/proxy)`;
    const res = await this.send(
      'GET',
      `${objectPath(PODS, ns, `${pod}:${port}`)}/proxy${p}`,
      query,
      undefined,
      signal,
      30_000,
      undefined,
      headers,
    );
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      throw apiError(what, res.statusCode, text, res.headers);
    }
    return res.body;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.pool?.dispatcher.close();
  }

  private async json<T>(
    method: string,
    what: string,
    path: string,
    query: Record<string, string | undefined>,
    body: unknown,
    signal: AbortSignal,
    verb = method.toLowerCase(),
    contentType = 'application/json',
  ): Promise<T> {
    const label = `${verb} ${what}`;
    return this.withRetry(label, signal, async () => {
      const res = await this.send(method, path, query, body, signal, 30_000, contentType);
      const text = await res.body.text();
      if (res.statusCode >= 300) throw apiError(label, res.statusCode, text, res.headers);
      return JSON.parse(text) as T;
    });
  }

  private async open(
    method: string,
    what: string,
    path: string,
    query: Record<string, string | undefined>,
    signal: AbortSignal,
    bodyTimeoutMs: number,
  ): Promise<Readable> {
    const res = await this.send(method, path, query, undefined, signal, bodyTimeoutMs);
    if (res.statusCode >= 300) {
      const text = await res.body.text();
      throw apiError(what, res.statusCode, text, res.headers);
    }
    return res.body;
  }

  private async send(
    method: string,
    path: string,
    query: Record<string, string | undefined>,
    body: unknown,
    signal: AbortSignal,
    bodyTimeoutMs: number,
    contentType = 'application/json',
    extraHeaders: Record<string, string> = {},
  ): Promise<Dispatcher.ResponseData> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new InfraError('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const credentials = await this.credentials();
    const headers: Record<string, string> = {
      ...extraHeaders,
      ...credentials.headers,
      accept: 'application/json',
    };
    if (this.token) headers.authorization = `Bearer ${await this.token()}`;
    if (body !== undefined) headers['content-type'] = contentType;
    return this.dispatcherFor(credentials.tls).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      headersTimeout: 30_000,
      bodyTimeout: bodyTimeoutMs,
    });
  }

  /**
   * The headers and TLS material of the kubeconfig's user now. An exec credential plugin runs
   * when its credential has expired; requests that ask while it runs share its answer (at
   * start-up a run sends ~10 requests at once, which ran the plugin 10 times).
   */
  private credentials(): Promise<Credentials> {
    this.loading ??= loadCredentials(this.kc).finally(() => (this.loading = undefined));
    return this.loading;
  }

  /**
   * The connection pool for `tls`: the same while the credentials stay the same, a new one when an
   * exec plugin (or a rewritten certificate file) rotates the client certificate; the old pool
   * closes once its requests (open watches and log streams included) have ended. HTTP/1.1 only
   * (`allowH2: false`): undici 8 negotiates HTTP/2 by default, which puts every watch and log
   * stream on one connection, and its HTTP/2 teardown once crashed a run on SIGTERM
   * (UND_ERR_DESTROYED, exit 1 instead of 143).
   */
  private dispatcherFor(tls: TlsMaterial): Dispatcher {
    const key = tlsKey(tls);
    if (this.pool?.key === key) return this.pool.dispatcher;
    const old = this.pool?.dispatcher;
    this.pool = { key, dispatcher: newDispatcher(this.kc, tls) };
    old?.close().catch(() => undefined);
    return this.pool.dispatcher;
  }

  private withRetry<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return pRetry(fn, {
      signal,
      retries: 1000,
      minTimeout: this.retry.minDelayMs,
      maxTimeout: this.retry.maxDelayMs,
      randomize: true,
      maxRetryTime: this.retry.maxRetryTimeMs,
      shouldRetry: ({ error }) => !signal.aborted && isTransient(error),
      onFailedAttempt: async ({ error, retryDelay }) => {
        if (signal.aborted || !isTransient(error)) return;
        // Honour Retry-After (429, 503) on top of the backoff delay, within the retry budget.
        const extra =
          error instanceof KubeApiError && error.retryAfterSeconds
            ? Math.max(0, error.retryAfterSeconds * 1000 - retryDelay)
            : 0;
        this.onRetry(what, error, retryDelay + extra);
        if (extra > 0) await sleep(Math.min(extra, this.retry.maxDelayMs * 4), signal);
      },
    }).catch((err: unknown) => {
      if (signal.aborted) throw signal.reason ?? err;
      if (isTransient(err)) {
        const detail =
          err instanceof KubeApiError ? err.message : `${what}: ${describeNetworkError(err)}`;
        throw new InfraError(
          `${detail} (still failing after ${Math.round(this.retry.maxRetryTimeMs / 1000)} s of retries): check that the API server is reachable`,
          { cause: err },
        );
      }
      throw err;
    });
  }
}

/** The TLS options of a request that make a connection pool differ. */
type TlsMaterial = Pick<
  RequestOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
>;

/** What the kubeconfig's user adds to a request. */
interface Credentials {
  /** Authorization (token, exec plugin, auth provider, basic), Impersonate-User. */
  headers: Record<string, string>;
  tls: TlsMaterial;
}

/** Loads the user's credentials through client-node (runs an exec plugin when needed). */
async function loadCredentials(kc: KubeConfig): Promise<Credentials> {
  const opts: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (err) {
    throw new InfraError(
      `the kubeconfig's credentials could not be loaded: ${credentialProblem(err)}; check its exec plugin or auth provider (kubectl would fail the same way)`,
      { cause: err },
    );
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    if (v !== undefined) headers[k.toLowerCase()] = String(v);
  }
  if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = opts;
  return { headers, tls: { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } };
}

/**
 * Why loading credentials failed, in one short line: an exec plugin's stderr can be long and
 * hold anything (its first line, at most 200 characters, is kept); a plugin whose output is not
 * JSON is said so without quoting the output, which may be a token.
 */
function credentialProblem(err: unknown): string {
  if (err instanceof SyntaxError) return 'the exec plugin printed something that is not JSON';
  const first = messageOf(err)
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (!first) return 'the exec plugin failed without saying why';
  return first.length > 200 ? `${first.slice(0, 199)}…` : first;
}

/**
 * A digest of `tls` (certificates and keys as given, strings or bytes): equal for the same
 * credentials, different when any part changes. Exported for tests.
 */
export function tlsKey(tls: TlsMaterial): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(tls).sort() as (keyof TlsMaterial)[]) {
    const value = tls[name];
    if (value === undefined) continue;
    const parts = Array.isArray(value) ? value : [value];
    hash.update(`${name}:${parts.length}\0`);
    for (const p of parts) {
      hash.update(typeof p === 'object' && !Buffer.isBuffer(p) ? JSON.stringify(p) : String(p));
      hash.update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * A connection pool for the current cluster with `tls`, HTTP/1.1 only, through the cluster's
 * `proxy-url` when it has one (client-node decides which kind, as for its own clients).
 */
function newDispatcher(kc: KubeConfig, tls: TlsMaterial): Dispatcher {
  const o = kc.createDispatcherOptions(kc.getCurrentCluster(), tls);
  switch (o.type) {
    case 'agent':
      return new Agent({ connect: o.connect, allowH2: false });
    case 'proxy':
      return new ProxyAgent({
        uri: o.uri,
        requestTls: o.requestTls,
        connect: o.connect,
        allowH2: false,
      });
    case 'socks': {
      // client-node's SOCKS connector is not exported: let it build the whole dispatcher.
      const make = (kc as unknown as { createDispatcher: SocksFactory }).createDispatcher;
      return make.call(kc, kc.getCurrentCluster(), tls);
    }
    case 'none':
      return new Agent({ allowH2: false });
  }
}

type SocksFactory = (cluster: unknown, tls: TlsMaterial) => Dispatcher;

/** The answer, or undefined when the API server answered 404 Not Found. */
async function unlessAbsent<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

function collectionPath(res: Resource, ns: string | undefined): string {
  if (ns === undefined) return `${res.api}/${res.plural}`;
  return `${res.api}/namespaces/${encodeURIComponent(ns)}/${res.plural}`;
}

function objectPath(res: Resource, ns: string | undefined, name: string): string {
  return `${collectionPath(res, ns)}/${encodeURIComponent(name)}`;
}

function apiError(
  what: string,
  code: number,
  text: string,
  headers: Record<string, unknown>,
): KubeApiError {
  let status: Status | undefined;
  try {
    const parsed = JSON.parse(text) as Status;
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') status = parsed;
  } catch {
    // Not JSON (a proxy's HTML page): keep only the HTTP status.
  }
  const retryAfter = Number(headers['retry-after']);
  return new KubeApiError(
    what,
    code,
    status,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}
