// Follows the logs of every container of every pod it is shown. Adapter over KubeApi.
import { sleep } from '../core/abort.js';
import type { KubeApi } from '../kube/api.js';
import { isStatus } from '../kube/errors.js';
import { isStreamCut } from '../kube/informer.js';
import type { ContainerStatus, Pod } from '../kube/types.js';
import type { LogSink, LogSource } from '../core/output.js';
import { LineSplitter, type Line } from '../kube/line-splitter.js';
import { LogCursor } from './lines.js';
import { recoverAfter } from './recover.js';
import { controllerOf } from '../kube/selectors.js';

/** Bytes of a log line passed on at most in one piece (longer lines come in several). */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Ends every piece of a long line but its last. */
export const CONTINUED_MARK = ' [line continues]';

/** Key of a container instance: a restarted container gets a new tail. */
function tailKey(podUid: string, container: string, containerID: string): string {
  return `${podUid}/${container}/${containerID}`;
}

/** The status of a container by name, init containers included. */
function statusOf(pod: Pod, name: string): ContainerStatus | undefined {
  return (
    pod.status?.initContainerStatuses?.find((c) => c.name === name) ??
    pod.status?.containerStatuses?.find((c) => c.name === name)
  );
}

/** How the given container instance stands in the latest pod we saw. */
type InstanceState = 'running' | 'terminated' | 'previous' | 'gone';

function instanceState(
  pod: Pod | undefined,
  container: string,
  containerID: string,
): InstanceState {
  if (!pod) return 'gone';
  const s = statusOf(pod, container);
  if (!s) return 'gone';
  if (s.containerID === containerID) return s.state?.terminated ? 'terminated' : 'running';
  if (s.lastState?.terminated?.containerID === containerID) return 'previous';
  return 'gone';
}

/** Lines mirrored from one container of one pod (its restarts added up), and lines lost. */
export interface LogCount {
  pod: string;
  container: string;
  lines: number;
  /** Lines known to be missing; null when some are and their number is unknown. */
  lost: number | null;
}

/** Timing of the follower. */
export interface FollowerTiming {
  /** Wait after a stream ended while its container still ran, before reopening, ms. */
  reopenDelayMs: number;
  /** Attempts to open a log that the API refuses (400: container not ready) before giving up. */
  maxRefusals: number;
  /** Cut streams in a row that bring no new line before the rest of that second is given up. */
  maxCutsWithoutProgress: number;
}

/**
 * Follows logs of pods as their status changes: {@link LogFollower.update} with every pod seen.
 * Each container instance (init containers too, restarts too) that has started gets one tail
 * that streams with `follow=true&timestamps=true`; a stream cut while the container runs is
 * reopened with `sinceTime` and the {@link LogCursor} skips what was printed. A tail ends after
 * a stream that was opened once the container had terminated has been read to its end.
 */
export class LogFollower {
  private readonly pods = new Map<string, Pod>();
  private readonly tails = new Map<string, Promise<void>>();
  private readonly open = new Set<string>();
  private readonly counts = new Map<
    string,
    { source: LogSource; cursor: LogCursor; lost: number | null }
  >();
  /** Who waits for a pod update: each waker with the uid of the pod it waits for. */
  private readonly changed = new Map<() => void, string>();
  private readonly ctl = new AbortController();
  private readonly signal: AbortSignal;

  constructor(
    private readonly client: KubeApi,
    private readonly sink: LogSink,
    signal: AbortSignal,
    private readonly timing: FollowerTiming = {
      reopenDelayMs: 500,
      maxRefusals: 20,
      maxCutsWithoutProgress: 5,
    },
  ) {
    this.signal = AbortSignal.any([signal, this.ctl.signal]);
  }

  /** Shows the follower the newest state of a pod; starts tails for newly started containers. */
  update(pod: Pod, deleted = false): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (deleted) this.pods.delete(uid);
    else this.pods.set(uid, pod);
    if (!deleted) {
      for (const s of [
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.containerStatuses ?? []),
      ]) {
        for (const id of [s.lastState?.terminated?.containerID, s.containerID]) {
          if (!id) continue;
          const key = tailKey(uid, s.name, id);
          if (this.tails.has(key)) continue;
          const source: LogSource = {
            namespace: pod.metadata?.namespace ?? '',
            pod: pod.metadata?.name ?? '',
            container: s.name,
            job: controllerOf(pod, 'Job')?.name,
          };
          this.open.add(key);
          const cursor = new LogCursor();
          this.counts.set(key, { source, cursor, lost: 0 });
          this.tails.set(
            key,
            this.tail(uid, source, id, cursor, key).finally(() => this.open.delete(key)),
          );
        }
      }
    }
    // Only the tails of this pod: with many pods, every update waking every tail made each tail
    // that waits for its container ask for its log again and again (748 log requests for 50 Jobs).
    for (const [wake, of] of this.changed) if (of === uid) wake();
  }

  /**
   * Resolves when every tail has ended, or after `timeoutMs`; then stops the rest and returns
   * how many were still open. Tails of `skip` (`podUid/container`: sidecars still running) are not
   * waited for and not counted: they are stopped with the rest.
   */
  async drain(timeoutMs: number, skip: ReadonlySet<string> = new Set()): Promise<number> {
    const skipped = (key: string) => [...skip].some((k) => key.startsWith(`${k}/`));
    const all = Promise.all([...this.tails].filter(([k]) => !skipped(k)).map(([, p]) => p));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    const first = await Promise.race([all.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    const open = [...this.open].filter((k) => !skipped(k));
    for (const key of open) this.lose(key, null);
    if (first === 'timeout' || this.open.size > 0) {
      this.ctl.abort(new Error(first === 'timeout' ? 'log drain timed out' : 'drained'));
      await Promise.all([...this.tails.values()]);
    }
    return open.length;
  }

  /**
   * Waits, at most `timeoutMs`, until the tails of `pod`'s containers that have ended have read
   * their logs to the end (a dependency that exited at once: its last lines are wanted for the
   * explanation). Shows the follower `pod` first, so that those tails exist.
   */
  async settle(pod: Pod, timeoutMs: number): Promise<void> {
    this.update(pod);
    const uid = pod.metadata?.uid ?? '';
    const ended = new Set(
      [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
        .flatMap((s) => [
          s.state?.terminated ? s.containerID : undefined,
          s.lastState?.terminated?.containerID,
        ])
        .filter((id): id is string => Boolean(id)),
    );
    const waits = [...this.tails]
      .filter(
        ([k]) => k.startsWith(`${uid}/`) && ended.has(k.slice(k.indexOf('/', uid.length + 1) + 1)),
      )
      .map(([, p]) => p);
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** Lines mirrored and lost per pod and container, in the order the containers started. */
  logCounts(): LogCount[] {
    const byContainer = new Map<string, LogCount>();
    for (const { source, cursor, lost } of this.counts.values()) {
      const k = `${source.namespace}/${source.pod}/${source.container}`;
      const c = byContainer.get(k) ?? {
        pod: source.pod,
        container: source.container,
        lines: 0,
        lost: 0,
      };
      c.lines += cursor.printed;
      c.lost = c.lost === null || lost === null ? null : c.lost + lost;
      byContainer.set(k, c);
    }
    return [...byContainer.values()];
  }

  private lose(key: string, lines: number | null): void {
    const c = this.counts.get(key);
    if (c) c.lost = c.lost === null || lines === null ? null : c.lost + lines;
  }

  /** Stops every tail now. */
  async stop(): Promise<void> {
    this.ctl.abort(new Error('stopped'));
    await Promise.all([...this.tails.values()]);
  }

  /** Resolves at the next update of pod `podUid`, after `ms` at the latest, or on abort. */
  private waitForChange(podUid: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.changed.delete(done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.changed.set(done, podUid);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async tail(
    podUid: string,
    source: LogSource,
    containerID: string,
    cursor: LogCursor,
    key: string,
  ): Promise<void> {
    let refusals = 0;
    let cutsWithoutProgress = 0;
    let emptyEnds = 0;
    while (!this.signal.aborted) {
      const state = instanceState(this.pods.get(podUid), source.container, containerID);
      if (state === 'gone' && cursor.printed > 0) return;
      // A stream opened after the container ended holds its whole log: the last one we need.
      const final = state !== 'running';
      const splitter = new LineSplitter(MAX_LINE_BYTES);
      cursor.startStream();
      const printedBefore = cursor.printed;
      // The kubelet ends a follow stream up to a second after its container exits; once the
      // pod says it has, read the rest with a final stream from the cursor at once instead.
      const ended = new AbortController();
      const onChange = () => {
        if (instanceState(this.pods.get(podUid), source.container, containerID) !== 'running')
          ended.abort(new Error('the container ended'));
      };
      if (!final) this.changed.set(onChange, podUid);
      try {
        const stream = await this.client.logs(
          source.namespace,
          source.pod,
          source.container,
          {
            follow: !final,
            timestamps: true,
            sinceTime: cursor.sinceTime(),
            previous: state === 'previous',
          },
          AbortSignal.any([this.signal, ended.signal]),
        );
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            const out = this.accept(cursor, splitter.push(chunk));
            if (out.length > 0) await this.sink.write(source, out);
          }
        } finally {
          stream.destroy();
        }
        if (final) {
          const rest = splitter.end();
          if (rest !== undefined) {
            const out = this.accept(cursor, [{ text: rest }]);
            if (out.length > 0) await this.sink.write(source, out);
          }
          return;
        }
        // The stream ended but the container was running when we opened it: it has probably
        // just stopped (the pod update is on its way, unless it is here already), or the
        // connection was cut.
        this.sink.debug(
          source,
          `log stream ended while the container ran; reopening from ${cursor.sinceTime() ?? 'the start'}`,
        );
        // Until the pod says the container ended, or the delay passed: it doubles while streams end
        // without a new line (the kubelet's status comes up to a second or two after the end, and
        // each early reopen was one more request: ~9 per pod with 50 Jobs at once).
        emptyEnds = cursor.printed > printedBefore ? 0 : emptyEnds + 1;
        const delayMs = Math.min(this.timing.reopenDelayMs * 2 ** Math.max(0, emptyEnds - 1), 4000);
        const until = Date.now() + delayMs;
        while (
          instanceState(this.pods.get(podUid), source.container, containerID) === 'running' &&
          Date.now() < until &&
          !this.signal.aborted
        )
          await this.waitForChange(podUid, until - Date.now());
      } catch (err) {
        if (this.signal.aborted) return;
        if (ended.signal.aborted) continue; // the final stream reads the rest
        if (isStatus(err, 404)) {
          // The pod is gone: its logs with it.
          if (cursor.printed === 0) {
            this.sink.note(source, 'the pod was deleted before its log could be read');
            this.lose(key, null);
          }
          return;
        }
        if (isStatus(err, 400) && ++refusals <= this.timing.maxRefusals) {
          // "container is waiting to start" or not yet ready: wait for the next pod update.
          await this.waitForChange(podUid, 1000);
          continue;
        }
        if (isStatus(err, 400)) {
          this.sink.note(source, `log not available: ${(err as Error).message}`);
          this.lose(key, null);
          return;
        }
        if (!isStreamCut(err)) {
          this.sink.note(source, `log stream failed: ${(err as Error).message}`);
          this.lose(key, null);
          return;
        }
        cutsWithoutProgress = cursor.printed > printedBefore ? 0 : cutsWithoutProgress + 1;
        if (cutsWithoutProgress >= this.timing.maxCutsWithoutProgress) {
          // sinceTime has one-second precision in the API: when one second of log is more than
          // the connection carries before it is cut, reopening there never gets further.
          await this.recover(podUid, source, containerID, cursor, key);
          return;
        }
        this.sink.debug(
          source,
          `log stream cut (${(err as Error).message}); reopening from ${cursor.sinceTime() ?? 'the start'}`,
        );
        // A cut after new lines is a connection that carries only so much (a load balancer's
        // limit): reopen at once. Cuts without progress back off, 100 ms doubling to 2 s.
        const delayMs =
          cutsWithoutProgress === 0 ? 0 : Math.min(100 * 2 ** (cutsWithoutProgress - 1), 2000);
        if (delayMs > 0) await sleep(delayMs, this.signal).catch(() => undefined);
      } finally {
        this.changed.delete(onChange);
      }
    }
  }

  /**
   * Reads the rest of a container's log by position once the container has ended, for a stream
   * that cannot get past one second (see {@link recoverAfter}); notes what could not be read.
   */
  private async recover(
    podUid: string,
    source: LogSource,
    containerID: string,
    cursor: LogCursor,
    key: string,
  ): Promise<void> {
    const second = cursor.sinceTime() ?? 'the start';
    let state = instanceState(this.pods.get(podUid), source.container, containerID);
    this.sink.note(
      source,
      `the log stream was cut ${this.timing.maxCutsWithoutProgress} times in a row before it got past ${second} ` +
        `(more log in one second than the connection carries); the rest of this container's log ` +
        (state === 'running' ? 'follows once it has ended' : 'is read by position'),
    );
    while (state === 'running' && !this.signal.aborted) {
      await this.waitForChange(podUid, 1000);
      state = instanceState(this.pods.get(podUid), source.container, containerID);
    }
    if (this.signal.aborted) return this.lose(key, null);
    if (state === 'gone') {
      this.sink.note(
        source,
        `the pod was deleted before the rest of its log (after ${second}) could be read`,
      );
      return this.lose(key, null);
    }
    cursor.startRecovery();
    const read = async (tailLines: number, limitBytes: number): Promise<string> => {
      const stream = await this.client.logs(
        source.namespace,
        source.pod,
        source.container,
        { follow: false, timestamps: true, tailLines, limitBytes, previous: state === 'previous' },
        this.signal,
      );
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      } finally {
        stream.destroy();
      }
      return Buffer.concat(chunks).toString('utf8');
    };
    const before = cursor.printed;
    const r = await recoverAfter(
      read,
      cursor.anchor,
      async (lines) => {
        const out = this.accept(
          cursor,
          lines.map((text) => ({ text })),
        );
        if (out.length > 0) await this.sink.write(source, out);
      },
      undefined,
      this.signal,
    );
    this.sink.debug(source, `read ${cursor.printed - before} lines after ${second} by position`);
    if (r.lost === 0 || this.signal.aborted) return r.lost === 0 ? undefined : this.lose(key, null);
    this.lose(key, r.lost ?? null);
    this.sink.note(
      source,
      `${r.lost === undefined ? 'an unknown number of' : r.lost} lines of this container's log after ${second} could not be read: ${r.why ?? 'unknown'}`,
    );
  }

  private accept(cursor: LogCursor, lines: Line[]): string[] {
    const out: string[] = [];
    for (const line of lines) {
      const a = cursor.accept(line.text, line.continued);
      if (a.print) out.push(a.continued ? a.text + CONTINUED_MARK : a.text);
    }
    return out;
  }
}
