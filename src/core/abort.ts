// Waiting that an AbortSignal ends: the signal's reason (CancelledError, RunTimeoutError) is what
// the waiter rejects with, so that callers can tell why they stopped.
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms`, or rejects with `signal.reason` when `signal` aborts first. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw err;
  }
}

/** Settles as `p` does, or rejects with `signal.reason` as soon as `signal` aborts. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
