// Level-driven watching: list, then watch from the list's resourceVersion; renew the watch from
// the last resourceVersion seen; re-list on 410 Gone; reconnect with backoff when a watch drops.
// Adapter over KubeApi.
import { isTransient } from './errors.js';
import { sleep } from '../core/abort.js';
import type { KubeApi, ListOptions } from './api.js';
import type { Resource } from './resources.js';
import type { KubeObject, Status, WatchEvent } from './types.js';

/** What an informer tells its owner. */
export interface InformerHandler<T> {
  /** The full current set, after every list (first one included). */
  onList(items: T[]): void;
  /** One change seen by the watch. */
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  /** A watch dropped or expired and is being renewed; for the debug log. */
  onReconnect?(why: string): void;
}

/** Timing of an informer. */
export interface InformerTiming {
  /** Server-side watch timeout, s, before spreading (see runInformer). */
  watchTimeoutSeconds: number;
  /** First delay after a dropped watch, ms; doubles up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

/**
 * Default: renew every 10-20 min (client-go's reflector: 5-10; a 10 min Job then costs no
 * renewal; a connection that died silently is found by TCP keepalive or the body timeout), back
 * off 200 ms to 5 s.
 */
export const DEFAULT_INFORMER_TIMING: InformerTiming = {
  watchTimeoutSeconds: 600,
  backoffMs: 200,
  maxBackoffMs: 5_000,
};

/** Options of {@link runInformer}. */
export interface InformerOptions {
  timing?: InformerTiming;
  /**
   * Watch from this resourceVersion at once, without the first list: for a caller that knows
   * what matched the selector then (e.g. a run's own objects, created after it); `onList` gets
   * `[]` first. A 410 Gone (too old) lists as usual.
   */
  since?: string | undefined;
}

/**
 * Keeps `handler` up to date with the objects matching `opts` until `signal` aborts (then it
 * resolves). Lists, then watches from the list's resourceVersion with a timeout between
 * `watchTimeoutSeconds` and twice that; when the server ends a watch, or it drops, watches again
 * from the last resourceVersion seen (bookmarks keep it fresh); lists again only when the server
 * answers 410 Gone (or another watch error). A Job of any length thus costs one list and one
 * watch per informer, plus one renewal per 10-20 min. A watch that drops mid-stream is reopened
 * with backoff (up to `maxBackoffMs`) while `signal` allows; opening a list or a watch is retried
 * by the client within its retry budget (--api-timeout), after which its InfraError rejects, as
 * does a final failure (e.g. 403). With `options.since`, the first list is left out.
 * Source: client-go tools/cache reflector, https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 */
export async function runInformer<T extends KubeObject>(
  client: KubeApi,
  res: Resource,
  ns: string,
  opts: ListOptions,
  handler: InformerHandler<T>,
  signal: AbortSignal,
  options: InformerOptions = {},
): Promise<void> {
  const timing = options.timing ?? DEFAULT_INFORMER_TIMING;
  let backoff = timing.backoffMs;
  let resourceVersion = options.since;
  if (resourceVersion !== undefined) handler.onList([]);
  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = await client.list<T>(res, ns, opts, signal);
        handler.onList(list.items);
        resourceVersion = list.metadata?.resourceVersion ?? '0';
      }
      // Spread renewals so that many informers do not renew together.
      const timeoutSeconds =
        timing.watchTimeoutSeconds + Math.floor(Math.random() * timing.watchTimeoutSeconds);
      const events = client.watch<T>(res, ns, { ...opts, resourceVersion, timeoutSeconds }, signal);
      for await (const event of events) {
        resourceVersion = applyEvent(event, handler) ?? resourceVersion;
        if (event.type === 'ERROR') {
          const status = event.object as Status;
          handler.onReconnect?.(
            `watch ${res.plural}: ${status.code ?? ''} ${status.reason ?? ''} ${status.message ?? ''}`.trim(),
          );
          resourceVersion = undefined; // 410 Gone (or any watch error): list again.
          break;
        }
        backoff = timing.backoffMs;
      }
      // The server ended the watch after timeoutSeconds: watch again from where it ended.
    } catch (err) {
      if (signal.aborted) break;
      if (!isTransient(err) && !isStreamCut(err)) throw err;
      handler.onReconnect?.(`watch ${res.plural} dropped: ${(err as Error).message}`);
      try {
        await sleep(backoff, signal);
      } catch {
        break;
      }
      backoff = Math.min(backoff * 2, timing.maxBackoffMs);
    }
  }
}

function applyEvent<T>(
  event: WatchEvent<T | Status>,
  handler: InformerHandler<T>,
): string | undefined {
  const obj = event.object as KubeObject;
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      handler.onEvent(event.type, event.object as T);
      return obj.metadata?.resourceVersion;
    case 'BOOKMARK':
      return obj.metadata?.resourceVersion;
    default:
      return undefined;
  }
}

/** A response body that ended abruptly (connection reset, proxy cut, body timeout). */
export function isStreamCut(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (
    code === 'UND_ERR_SOCKET' ||
    code === 'ECONNRESET' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'UND_ERR_ABORTED' ||
    // A malformed event line (the splitter never yields a half line): reconnect.
    err instanceof SyntaxError
  );
}
