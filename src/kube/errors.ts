// API errors: what failed, in Kubernetes' words, and whether trying again can help. Pure.
import { InfraError } from '../core/errors.js';
import type { Status } from './types.js';

/** An answer of the API server other than 2xx, e.g. `create job/tests: Forbidden: ...`. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** HTTP status code. */
  readonly code: number;
  /** The Status reason, e.g. `NotFound`, `AlreadyExists`, `Forbidden`, `Invalid`, `Expired`. */
  readonly reason: string;
  /** Seconds the server asked us to wait (Retry-After), when it did. */
  readonly retryAfterSeconds: number | undefined;

  constructor(what: string, code: number, status: Status | undefined, retryAfterSeconds?: number) {
    const reason = status?.reason || httpReason(code);
    const detail = status?.message ? `: ${withoutManifestBytes(status.message)}` : '';
    super(`${what}: ${reason}${detail}`);
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds ?? status?.details?.retryAfterSeconds;
  }
}

/**
 * A decode error of the API server quotes the request body around the fault ("error found in #10
 * byte of ...|<json>|..., bigger context ...|<json>|..."). That body is the manifest, which may
 * hold env values: keep the message, drop the quoted bytes.
 */
export function withoutManifestBytes(message: string): string {
  const cut = message.search(/,? ?error found in #\d+ byte of \.\.\.\|/);
  return cut < 0 ? message : message.slice(0, cut);
}

function httpReason(code: number): string {
  const names: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    502: 'BadGateway',
    503: 'ServiceUnavailable',
    504: 'GatewayTimeout',
  };
  return names[code] ?? `HTTP ${code}`;
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * True for failures worth retrying: network errors, timeouts, 408, 429 and 5xx. Everything else
 * (4xx: forbidden, invalid, not found, conflict) is final, and so is an InfraError: the retries
 * that it ends have given up already (its cause may be a network error). Source: client-go's
 * `IsRetryableError`/rest client retry, and actions/toolkit's retry helper.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof InfraError) return false;
  if (isTypedPatchError(err)) return false;
  if (err instanceof KubeApiError) return err.code === 408 || err.code === 429 || err.code >= 500;
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True for the 500 a server-side apply gets when the object does not fit the type's schema
 * ("failed to create typed patch object": a list entry without its key field, duplicate keys):
 * an answer about the object, the same on every attempt.
 * Source: https://github.com/kubernetes-sigs/structured-merge-diff/issues/183
 */
export function isTypedPatchError(err: unknown): err is KubeApiError {
  return (
    err instanceof KubeApiError &&
    err.code === 500 &&
    err.message.includes('failed to create typed patch object')
  );
}

/** True when `err` is an API answer with HTTP status `code`. */
export function isStatus(err: unknown, code: number): err is KubeApiError {
  return err instanceof KubeApiError && err.code === code;
}

/** A short description of a network-level error, e.g. `connect ECONNREFUSED 127.0.0.1:6443`. */
export function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const msg = (e as { message?: unknown }).message;
    if (typeof msg === 'string' && msg && !parts.includes(msg)) parts.push(msg);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(err);
}
