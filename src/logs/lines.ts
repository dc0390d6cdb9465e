// The cursor that resumes a cut log stream, timestamps and partial lines. Pure.

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/**
 * A log timestamp as a fixed-width string that sorts in time order
 * (`2026-01-02T03:04:05.123000000Z`), or undefined when `ts` is not RFC 3339. The kubelet sends
 * RFC3339Nano in UTC with trailing zeros cut; other offsets are converted (to ms precision).
 */
export function normalizeTimestamp(ts: string): string | undefined {
  const m = RFC3339.exec(ts);
  if (m) return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
  const ms = Date.parse(ts);
  if (!/^\d{4}-\d\d-\d\dT/.test(ts) || Number.isNaN(ms)) return undefined;
  return new Date(ms).toISOString().replace('Z', '000000Z');
}

/** Container runtimes split lines into partial entries of at least this many bytes. */
const MIN_PARTIAL_BYTES = 1024;
const EMBEDDED_TS = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) /g;

/**
 * The text of one log line with the timestamps that the kubelet put inside it removed. A CRI
 * runtime stores a line longer than its limit (containerd: `max_container_log_line_size`,
 * 16 KiB) as several partial entries; with `timestamps=true` the kubelet prefixes each of them
 * with its own timestamp, so one long line arrives as `TS1 chunk1TS2 chunk2TS3 rest`. A
 * timestamp is removed only where it ends a chunk of the same size in bytes as the first one
 * (a multiple of 1 KiB: containerd 16 KiB, CRI-O's conmon 8 KiB) and is not older than `lineTs`
 * (the normalized leading timestamp); text that merely looks like a timestamp stays.
 * Source: https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md
 */
export function joinPartialLines(text: string, lineTs: string): string {
  if (text.length < MIN_PARTIAL_BYTES / 4) return text;
  EMBEDDED_TS.lastIndex = 0;
  let m = EMBEDDED_TS.exec(text);
  if (!m) return text;
  let chunkBytes: number | undefined;
  let start = 0;
  let out = '';
  let last = lineTs;
  while (m) {
    const bytes = Buffer.byteLength(text.slice(start, m.index));
    const ts = normalizeTimestamp(m[1]!);
    const later = ts !== undefined && ts >= last;
    const boundary =
      chunkBytes === undefined
        ? later && bytes >= MIN_PARTIAL_BYTES && bytes % 1024 === 0
        : later && bytes === chunkBytes;
    if (!boundary) {
      // Text that looks like a timestamp: go on looking, unless past where a chunk would end.
      if (chunkBytes !== undefined && bytes > chunkBytes) break;
      m = EMBEDDED_TS.exec(text);
      continue;
    }
    chunkBytes = bytes;
    last = ts!;
    out += text.slice(start, m.index);
    start = m.index + m[0].length;
    EMBEDDED_TS.lastIndex = start;
    m = EMBEDDED_TS.exec(text);
  }
  return chunkBytes === undefined ? text : out + text.slice(start);
}

/** What {@link LogCursor.accept} decided for one line. */
export type Accepted = { print: true; text: string; timestamp?: string } | { print: false };

/**
 * Remembers how far a container's log has been printed, so that a stream reopened with
 * `sinceTime` prints every line exactly once. Lines come as `TIMESTAMP SP TEXT` (the log API's
 * `timestamps=true`). `sinceTime` has one-second precision in the API, so a reopened stream
 * starts with the lines of the last printed second again: as many as were printed are skipped.
 * Timestamps are not in file order: the container runtime stamps stdout and stderr lines in
 * separate readers before writing them to one file (a stderr line may follow a later stdout
 * line), so within a stream every line after the repeats is new, whatever its timestamp.
 * Source: the stern tail resume approach, containerd's CRI log writer (one goroutine per stream),
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#read-log-of-the-specified-pod
 */
export class LogCursor {
  /** The latest second (`YYYY-MM-DDTHH:MM:SS`) of a printed line, or the one skipped to. */
  private lastSecond: string | undefined;
  /** Printed lines of `lastSecond`: a stream reopened at that second repeats them first. */
  private printedInLast = 0;
  /** The current stream: where it starts (its sinceTime) and how many repeats are still to come. */
  private streamSecond: string | undefined;
  private repeats = 0;
  private lines = 0;

  /** Call before reading a new stream of the same container (opened with {@link sinceTime}). */
  startStream(): void {
    this.streamSecond = this.lastSecond;
    this.repeats = this.printedInLast;
  }

  /** Decides whether `line` is new; returns its text without the timestamp. */
  accept(line: string): Accepted {
    const space = line.indexOf(' ');
    const rawTs = space < 0 ? line : line.slice(0, space);
    const ts = normalizeTimestamp(rawTs);
    if (ts === undefined) {
      this.lines++;
      return { print: true, text: line };
    }
    const second = ts.slice(0, 19);
    // Before the stream's sinceTime (the API does not send those): printed already.
    if (this.streamSecond !== undefined && second < this.streamSecond) return { print: false };
    if (this.repeats > 0) {
      this.repeats--;
      return { print: false };
    }
    const text = space < 0 ? '' : joinPartialLines(line.slice(space + 1), ts);
    if (this.lastSecond === undefined || second > this.lastSecond) {
      this.lastSecond = second;
      this.printedInLast = 1;
    } else if (second === this.lastSecond) {
      this.printedInLast++;
    }
    this.lines++;
    return { print: true, text, timestamp: ts };
  }

  /**
   * Gives up on the rest of the current second: the next stream starts at the following second.
   * For a connection cut more often than one second of log takes to send, where reopening at
   * the same second can never get further. Returns the second given up on.
   */
  skipSecond(): string | undefined {
    if (this.lastSecond === undefined) return undefined;
    const second = this.lastSecond;
    this.lastSecond = new Date(Date.parse(`${second}Z`) + 1000).toISOString().slice(0, 19);
    this.printedInLast = 0;
    return `${second}Z`;
  }

  /** `sinceTime` for reopening the stream (the last printed second), or undefined from the start. */
  sinceTime(): string | undefined {
    return this.lastSecond === undefined ? undefined : `${this.lastSecond}Z`;
  }

  /** How many lines were accepted for printing. */
  get printed(): number {
    return this.lines;
  }
}
