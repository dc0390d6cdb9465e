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
/** Longer than the longest embedded timestamp with its space (31 characters). */
const HOLD_CHARS = 40;

/**
 * Removes, from one log line given in pieces, the timestamps that the kubelet put inside it. A
 * CRI runtime stores a line longer than its limit (containerd: `max_container_log_line_size`,
 * 16 KiB) as several partial entries; with `timestamps=true` the kubelet prefixes each of them
 * with its own timestamp, so one long line arrives as `TS1 chunk1TS2 chunk2TS3 rest`. A
 * timestamp is removed only where it ends a chunk of the same size in bytes as the first one
 * (a multiple of 1 KiB: containerd 16 KiB, CRI-O's conmon 8 KiB) and is not older than the
 * line's own timestamp; text that merely looks like a timestamp stays. Linear in the text; it
 * holds back at most 40 characters between pieces (a timestamp may span two).
 * Source: https://github.com/kubernetes/design-proposals-archive/blob/main/node/kubelet-cri-logging.md
 */
export class PartialLineJoiner {
  private buf = '';
  /** Bytes passed on since the last boundary (or the line's start). */
  private sinceBoundary = 0;
  private chunkBytes: number | undefined;
  /** Once text that is not a boundary lies past where a chunk would end: no more removing. */
  private plain = false;

  /** @param last the line's leading timestamp, normalized ({@link normalizeTimestamp}). */
  constructor(private last: string) {}

  /** The timestamp of the line's last partial entry found so far (normalized). */
  get lastTimestamp(): string {
    return this.last;
  }

  /** The text of the next piece with the runtime's timestamps removed; `final` for the last. */
  push(piece: string, final: boolean): string {
    const text = this.buf + piece;
    this.buf = '';
    if (this.plain) return text;
    let start = 0;
    let out = '';
    EMBEDDED_TS.lastIndex = 0;
    for (let m = EMBEDDED_TS.exec(text); m; m = EMBEDDED_TS.exec(text)) {
      const bytes = this.sinceBoundary + Buffer.byteLength(text.slice(start, m.index));
      const ts = normalizeTimestamp(m[1]!);
      const later = ts !== undefined && ts >= this.last;
      const boundary =
        this.chunkBytes === undefined
          ? later && bytes >= MIN_PARTIAL_BYTES && bytes % 1024 === 0
          : later && bytes === this.chunkBytes;
      if (!boundary) {
        // Text that looks like a timestamp: go on looking, unless past where a chunk would end.
        if (this.chunkBytes !== undefined && bytes > this.chunkBytes) {
          this.plain = true;
          return out + text.slice(start);
        }
        continue;
      }
      this.chunkBytes = bytes;
      this.last = ts!;
      this.sinceBoundary = 0;
      out += text.slice(start, m.index);
      start = m.index + m[0].length;
      EMBEDDED_TS.lastIndex = start;
    }
    let cut = final ? text.length : Math.max(start, text.length - HOLD_CHARS);
    // Not between the two halves of a surrogate pair (their byte count would be wrong).
    const code = text.charCodeAt(cut - 1);
    if (cut > start && cut < text.length && code >= 0xd800 && code <= 0xdbff) cut--;
    const passed = text.slice(start, cut);
    this.sinceBoundary += Buffer.byteLength(passed);
    this.buf = text.slice(cut);
    return out + passed;
  }
}

/**
 * The text of one whole log line with the timestamps that the kubelet put inside it removed
 * ({@link PartialLineJoiner}); `lineTs` is the line's normalized leading timestamp.
 */
export function joinPartialLines(text: string, lineTs: string): string {
  return new PartialLineJoiner(lineTs).push(text, true);
}

/** Characters of a raw line kept to find it again in the log. */
const ANCHOR_CHARS = 4096;

/** A line read in pieces: printed or not, joined how, characters read and still to skip. */
interface LongLine {
  print: boolean;
  joiner?: PartialLineJoiner;
  /** Characters of the line's text (after its timestamp) read so far. */
  read: number;
  /** Characters still to skip: printed already from a stream that was cut. */
  skip: number;
}

/** What {@link LogCursor.accept} decided for one line (or piece of a long line). */
export type Accepted =
  { print: true; text: string; timestamp?: string; continued?: true } | { print: false };

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
  /** The line whose pieces are being read (a line longer than the splitter's limit). */
  private long: LongLine | undefined;
  /** A long line that a cut stream left half printed: the reopened stream repeats it. */
  private resume: LongLine | undefined;
  /** The start of the last printed line as it came (timestamp included). */
  private lastRaw: string | undefined;

  /** Call before reading a new stream of the same container (opened with {@link sinceTime}). */
  startStream(): void {
    this.streamSecond = this.lastSecond;
    this.repeats = this.printedInLast;
    this.resume = this.long?.print ? this.long : undefined;
    this.long = undefined;
  }

  /**
   * Decides whether `line` is new; returns its text without the timestamp. A line longer than
   * the splitter's limit comes in pieces, each but the last `continued`: the first piece decides
   * for all of them, and when a stream was cut inside such a line, the reopened stream's repeat
   * of it is printed from where the cut one stopped.
   */
  accept(line: string, continued = false): Accepted {
    if (this.long) return this.piece(this.long, line, continued, false);
    const space = line.indexOf(' ');
    const ts = normalizeTimestamp(space < 0 ? line : line.slice(0, space));
    if (ts === undefined) {
      this.lines++;
      return this.piece({ print: true, skip: 0, read: 0 }, line, continued, true);
    }
    const text = space < 0 ? '' : line.slice(space + 1);
    const second = ts.slice(0, 19);
    // Before the stream's sinceTime (the API does not send those): printed already.
    if (this.streamSecond !== undefined && second < this.streamSecond)
      return this.piece({ print: false, skip: 0, read: 0 }, text, continued, true);
    if (this.repeats > 0) {
      this.repeats--;
      const resume = this.repeats === 0 ? this.resume : undefined;
      if (resume) this.resume = undefined;
      const long = resume
        ? { print: true, joiner: resume.joiner, skip: resume.read, read: 0 }
        : { print: false, skip: 0, read: 0 };
      return this.piece(long, text, continued, false);
    }
    if (this.lastSecond === undefined || second > this.lastSecond) {
      this.lastSecond = second;
      this.printedInLast = 1;
    } else if (second === this.lastSecond) {
      this.printedInLast++;
    }
    this.lines++;
    this.lastRaw = line.slice(0, ANCHOR_CHARS);
    const long = { print: true, joiner: new PartialLineJoiner(ts), skip: 0, read: 0 };
    const a = this.piece(long, text, continued, true);
    return a.print ? { ...a, timestamp: ts } : a;
  }

  /** One piece of `long` (the whole line when not `continued`). */
  private piece(long: LongLine, raw: string, continued: boolean, first: boolean): Accepted {
    this.long = continued ? long : undefined;
    if (!long.print) return { print: false };
    long.read += raw.length;
    const skipped = Math.min(long.skip, raw.length);
    long.skip -= skipped;
    const rest = raw.slice(skipped);
    const text = long.joiner ? long.joiner.push(rest, !continued) : rest;
    if (!continued && long.joiner) this.ended(long.joiner.lastTimestamp.slice(0, 19));
    if (text === '' && !first) return { print: false };
    return continued ? { print: true, text, continued } : { print: true, text };
  }

  /**
   * A printed line ended with a partial entry of `second`: a stream reopened at that second or
   * later starts with the rest of the line from that entry on, a repeat like the lines of that
   * second. (A line longer than the runtime's limit is stored as partial entries, each with its
   * own timestamp, and `sinceTime` selects entries, not lines.)
   */
  private ended(second: string): void {
    if (this.lastSecond !== undefined && second > this.lastSecond) {
      this.lastSecond = second;
      this.printedInLast = 1;
    }
  }

  /** `sinceTime` for reopening the stream (the last printed second), or undefined from the start. */
  sinceTime(): string | undefined {
    return this.lastSecond === undefined ? undefined : `${this.lastSecond}Z`;
  }

  /**
   * Call before giving lines read by position ({@link recoverAfter}): every line is new, in
   * order, and none is skipped as a repeat.
   */
  startRecovery(): void {
    this.streamSecond = undefined;
    this.repeats = 0;
    this.long = undefined;
    this.resume = undefined;
  }

  /**
   * The start (at most 4096 characters) of the last printed line as it came, timestamp included:
   * what {@link recoverAfter} looks for. Undefined before the first timestamped line.
   */
  get anchor(): string | undefined {
    return this.lastRaw;
  }

  /** How many lines were accepted for printing. */
  get printed(): number {
    return this.lines;
  }
}
