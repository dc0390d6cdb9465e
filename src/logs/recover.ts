// Reading an ended container's log by position, through connections that carry only so much.
// Pure logic over an injected reader (the adapter is in follower.ts).

/**
 * Reads `tailLines` lines from the end of a container's log, at most `limitBytes` bytes of
 * them (timestamps included), as the log API does with `timestamps=true&tailLines=T&limitBytes=B`:
 * the answer starts with the line T from the end (or with the first line when the log has fewer)
 * and stops after `limitBytes` bytes, possibly inside a line. Throws when the connection is cut.
 */
export type WindowReader = (tailLines: number, limitBytes: number) => Promise<string>;

/** Bounds of a recovery. */
export interface RecoverLimits {
  /** The first `limitBytes`; halved after a cut connection (down to `minBytes`). */
  startBytes: number;
  minBytes: number;
  /** The most `limitBytes` grows to, for a line longer than the window. */
  maxBytes: number;
  /** Reads at most, both passes together. */
  maxReads: number;
}

export const RECOVER_LIMITS: RecoverLimits = {
  startBytes: 32 * 1024,
  minBytes: 1024,
  maxBytes: 8 * 1024 * 1024,
  maxReads: 20_000,
};

/** What a recovery brought: lines given to `emit`, and lines that could not be read. */
export interface Recovered {
  recovered: number;
  /** Lines known to be in the log but not read; undefined when their number is unknown. */
  lost: number | undefined;
  /** Why lines are lost, when they are. */
  why?: string;
}

class Windows {
  reads = 0;
  bytes: number;
  constructor(
    private readonly read: WindowReader,
    private readonly limits: RecoverLimits,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.bytes = limits.startBytes;
  }

  /**
   * Whole lines of one window, and whether the answer was shorter than the limit (all of it).
   * A cut answer is asked for again once at the same size (the next may go over a fresh
   * connection), then at half the size; at the smallest size, three cuts in a row end it.
   */
  async window(tailLines: number): Promise<{ lines: string[]; complete: boolean }> {
    let cuts = 0;
    for (;;) {
      if (++this.reads > this.limits.maxReads)
        throw new Error(`gave up after ${this.limits.maxReads} reads`);
      let text: string;
      try {
        text = await this.read(tailLines, this.bytes);
      } catch (err) {
        cuts++;
        if (this.signal?.aborted) throw err;
        if (this.bytes <= this.limits.minBytes) {
          if (cuts >= 3) throw err;
        } else if (cuts % 2 === 0) {
          this.bytes = Math.max(this.limits.minBytes, Math.floor(this.bytes / 2));
        }
        continue;
      }
      const complete = Buffer.byteLength(text) < this.bytes;
      const lines = text.split('\n');
      const last = lines.pop()!;
      // Cut by the limit inside a line: that line comes whole in the next window. The log's
      // last line may lack its "\n" when the answer is complete.
      if (complete && last !== '') lines.push(last);
      return { lines, complete };
    }
  }

  /** Makes room for a line longer than the window; throws when at the maximum. */
  mustGrow(): void {
    if (this.bytes >= this.limits.maxBytes)
      throw new Error(`a line is longer than ${this.limits.maxBytes} bytes`);
    this.bytes = Math.min(this.limits.maxBytes, this.bytes * 2);
  }
}

/**
 * The position from the end (1 = the last line) of the line that starts with `anchor` (a raw
 * line's start, timestamp included) in an ended container's log, found by reading windows backward from the end, each
 * overlapping the one before by a line (which also tells where the log begins); or the number
 * of lines plus one when `anchor` is undefined. Undefined when the anchor is not in the log or
 * the log changed while it was read.
 */
async function locate(w: Windows, anchor: string | undefined): Promise<number | undefined> {
  let next = 1; // the nearest position to the end not read yet
  let above: string | undefined; // the line at next - 1
  let size = 64;
  for (;;) {
    const tail = next - 1 + size;
    const { lines, complete } = await w.window(tail);
    let fresh: number; // lines at the top of the window that are new: positions tail .. next
    let start: boolean; // the window begins with the log's first line
    if (above === undefined) {
      if (!complete && lines.length < size) {
        if (lines.length > 0) size = lines.length;
        else w.mustGrow();
        continue;
      }
      fresh = Math.min(size, lines.length);
      start = complete && lines.length < tail;
    } else {
      const at = lines.indexOf(above);
      if (at < 0) {
        if (complete || lines.length > size) return undefined;
        if (lines.length > 1) size = lines.length - 1;
        else w.mustGrow();
        continue;
      }
      fresh = at;
      start = at < size;
    }
    const top = next - 1 + fresh; // position of lines[0]
    if (anchor !== undefined) {
      for (let i = fresh - 1; i >= 0; i--) if (lines[i]!.startsWith(anchor)) return top - i;
    }
    if (start) return anchor === undefined ? top + 1 : undefined;
    if (fresh > 0) above = lines[0];
    next = top + 1;
    const avg =
      lines.slice(0, Math.max(1, fresh)).reduce((n, l) => n + l.length + 1, 0) / Math.max(1, fresh);
    size = Math.max(1, Math.floor((w.bytes * 0.8) / avg));
  }
}

/**
 * Reads the lines after the one that starts with `anchor` (the start of the last raw line
 * printed, timestamp included; undefined: the whole log) of a container that has ended, through `read`, and gives them in order to `emit`.
 * Memory is bounded by one window. A connection cut inside a window makes the windows smaller.
 * The lines after the anchor are first counted from the end, then read forward; what cannot be
 * read is reported, exactly when the count is known. Never throws: an error (`signal` aborted
 * too) ends it with what was recovered and why the rest was not.
 * Source: the log API's tailLines and limitBytes,
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod
 */
export async function recoverAfter(
  read: WindowReader,
  anchor: string | undefined,
  emit: (lines: string[]) => Promise<void>,
  limits: RecoverLimits = RECOVER_LIMITS,
  signal?: AbortSignal,
): Promise<Recovered> {
  const w = new Windows(read, limits, signal);
  let position: number | undefined;
  try {
    position = await locate(w, anchor);
  } catch (err) {
    return { recovered: 0, lost: undefined, why: (err as Error).message };
  }
  if (position === undefined)
    return {
      recovered: 0,
      lost: undefined,
      why: 'the last line shown was not found in the log again',
    };
  let rest = position - 1;
  let recovered = 0;
  try {
    while (rest > 0) {
      const { lines } = await w.window(rest);
      if (lines.length === 0) {
        w.mustGrow();
        continue;
      }
      const batch = lines.slice(0, rest);
      await emit(batch);
      recovered += batch.length;
      rest -= batch.length;
    }
  } catch (err) {
    return { recovered, lost: rest, why: (err as Error).message };
  }
  return { recovered, lost: 0 };
}
