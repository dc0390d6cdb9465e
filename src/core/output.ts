// The output port: what kubestep prints (its own lines and the mirrored logs). Implemented by
// report/console.ts; every layer above core/ writes through it.

/** What kubestep prints besides the mirrored logs (to stderr). */
export interface Output {
  info(message: string): void;
  warn(message: string): void;
  /** Debug details (retries, reconnects); shown with --verbose. */
  debug(message: string): void;
  /**
   * A failure people must see (a Job failed or cannot start): `title` is short (`job/x failed`),
   * `message` one sentence. GitHub Actions shows it as an annotation.
   */
  error(title: string, message: string): void;
  /**
   * A failed test case from a JUnit report: an annotation in GitHub Actions (at `file` and `line`
   * when the report gives them); nothing elsewhere, where the summary lists the failed cases.
   */
  testFailure(t: {
    title: string;
    message: string;
    file?: string | undefined;
    line?: number | undefined;
  }): void;
  /**
   * What the run waits for now, replaced by the next call: a status line on a terminal (redrawn at
   * most once a second), a progress line in CI when nothing else was printed for a while.
   */
  status(text: string): void;
  /** The verdict, the last line of a run. */
  result(ok: boolean, text: string): void;
  /** Ends what is open (a status line, an output group); call once at the end. */
  close(): void;
  logs: LogSink;
}

/** Where mirrored log lines go. */
export interface LogSink {
  /**
   * Writes whole lines of one source, without their line ending (the follower's splitter drops
   * the "\n" and a "\r" before it). Returns a promise when the writer wants the caller to wait
   * (backpressure).
   */
  write(source: LogSource, lines: string[]): void | Promise<void>;
  /** A note about a source (logs lost), for kubestep's own output. */
  note(source: LogSource, message: string): void;
  /** Details (a stream reopened), shown with --verbose. */
  debug(source: LogSource, message: string): void;
}

/** One container instance's log. */
export interface LogSource {
  namespace: string;
  pod: string;
  container: string;
  /** The Job that owns the pod, when one does. */
  job?: string | undefined;
}
