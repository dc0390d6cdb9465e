// Receiving one pod's artifacts from its collector's log lines (frames.ts) into a directory:
// entries checked one by one (no path out of the directory, no links), within a size limit.
// Imperative shell over the file system.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { decodeFrame } from './frames.js';

/** What arrived from one pod. */
export interface Received {
  dir: string;
  files: number;
  /** Bytes of the files written. */
  bytes: number;
  /** The whole stream arrived and its size and SHA-256 match. */
  complete: boolean;
  /** Entries refused or cut, and why; the collector's own notes. */
  problems: string[];
}

/**
 * Where an entry of the tar may be written under `root`, or undefined when it may not: absolute
 * paths, paths with `..` that leave `root`, and the root itself.
 */
export function safePath(root: string, entryPath: string): string | undefined {
  if (isAbsolute(entryPath) || /^[a-zA-Z]:/.test(entryPath)) return undefined;
  const target = join(root, normalize(entryPath));
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..'))
    return undefined;
  return target;
}

/** Receives the frames of one collector and writes the files under `dir`, at most `maxBytes`. */
export class ArtifactReceiver {
  private readonly hash = createHash('sha256');
  private size = 0;
  private parser: Parser | undefined;
  private readonly writes: Promise<void>[] = [];
  private readonly result: Received;
  private ended = false;
  private expected: { size: number; sha256: string } | undefined;
  /** Files being written; destroyed when the stream stops half-way. */
  private readonly open = new Set<WriteStream>();
  private stopped = false;

  /** Where files are written until the stream is known complete (then renamed to `dir`). */
  private readonly partial: string;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {
    this.partial = `${dir}.partial`;
    this.result = { dir, files: 0, bytes: 0, complete: false, problems: [] };
  }

  /** Lines of the collector's log, in order; resolves when the parser can take more. */
  async write(lines: readonly string[]): Promise<void> {
    for (const line of lines) {
      const f = decodeFrame(line);
      if (!f) continue;
      if (f.kind === 'note') this.result.problems.push(`the collector: ${f.message}`);
      else if (f.kind === 'begin') this.parser ??= this.startParser();
      else if (f.kind === 'data' && this.parser && !this.ended)
        await this.feed(this.parser, f.bytes);
      else if (f.kind === 'end' && this.parser && !this.ended) {
        this.ended = true;
        this.expected = { size: f.size, sha256: f.sha256 };
        await new Promise<void>((r) => this.parser!.end(r));
      }
    }
  }

  /**
   * The tar itself (the direct path), to its end; returns its size (bytes) and SHA-256, which
   * {@link confirm} then takes once the collector confirmed them. Throws when the stream fails
   * (then {@link discard}).
   */
  async receiveTar(body: AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
    const parser = (this.parser ??= this.startParser());
    for await (const bytes of body)
      await this.feed(parser, Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
    this.ended = true;
    await new Promise<void>((r) => parser.end(r));
    return { size: this.size, sha256: this.hash.copy().digest('hex') };
  }

  /** Counts and hashes `chunk` and gives it to `parser`; resolves when the parser can take more. */
  private async feed(parser: Parser, chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (!parser.write(chunk)) await new Promise<void>((r) => parser.once('drain', () => r()));
  }

  /** A problem to report with what arrived (a path the collector left out). */
  note(problem: string): void {
    this.result.problems.push(problem);
  }

  /** The size and SHA-256 the sender confirmed: {@link finish} puts the files in place if they match. */
  confirm(sent: { size: number; sha256: string }): void {
    this.expected = sent;
  }

  /** Drops what arrived (a direct transfer that failed): nothing is left under `dir`. */
  async discard(): Promise<void> {
    this.stopped = true;
    for (const ws of this.open) ws.destroy();
    await Promise.allSettled(this.writes);
    await rm(this.partial, { recursive: true, force: true });
  }

  /** What arrived; waits for the files being written. Call once the collector's log has ended. */
  async finish(): Promise<Received> {
    if (!this.ended) {
      // The stream stopped half-way: the file being written will not be completed.
      this.stopped = true;
      for (const ws of this.open) {
        this.result.problems.push(`${relativeName(this.partial, String(ws.path))}: cut off`);
        ws.destroy();
      }
    }
    await Promise.all(this.writes);
    const sha = this.hash.digest('hex');
    this.result.complete =
      this.expected !== undefined &&
      this.expected.size === this.size &&
      this.expected.sha256 === sha;
    if (!this.parser) {
      this.result.problems.push(
        'no artifacts were sent (the collector was not stopped, or its log is gone)',
      );
      return this.result;
    }
    // Only a stream that arrived whole (size and SHA-256) is put in place: lines lost in the
    // middle would leave files that look fine and are not.
    const incomplete = `${this.dir}.incomplete`;
    await mkdir(this.partial, { recursive: true });
    await rm(this.result.complete ? this.dir : incomplete, { recursive: true, force: true });
    await rename(this.partial, this.result.complete ? this.dir : incomplete);
    if (!this.result.complete) {
      this.result.dir = incomplete;
      this.result.problems.push(
        `the stream is incomplete (${this.size} bytes arrived${this.expected ? ` of ${this.expected.size}` : ''}): what arrived is in ${incomplete}, and may be damaged`,
      );
    }
    return this.result;
  }

  private startParser(): Parser {
    // noResume: an entry flows only once it is piped to its file (or resumed to skip it).
    return new Parser({ noResume: true, onReadEntry: (entry: ReadEntry) => this.onEntry(entry) });
  }

  private onEntry(entry: ReadEntry): void {
    const target = safePath(this.partial, entry.path);
    const name = JSON.stringify(entry.path);
    const skip = (why?: string) => {
      if (why) this.result.problems.push(`${name}: ${why}`);
      entry.resume();
    };
    if (entry.type === 'Directory') {
      if (target) this.writes.push(mkdir(target, { recursive: true }).then(() => undefined));
      return skip();
    }
    if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile')
      return skip(`${entry.type} not copied (only files and directories are)`);
    if (!target) return skip('not copied: its path leaves the artifacts directory');
    if (this.result.bytes + entry.size > this.maxBytes)
      return skip(
        `not copied: the artifacts reached --artifacts-max-size (${this.maxBytes} bytes)`,
      );
    this.result.bytes += entry.size;
    this.result.files++;
    const mode = (entry.mode ?? 0o644) & 0o755;
    const done = mkdir(dirname(target), { recursive: true }).then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.stopped) return resolve();
          const ws = createWriteStream(target, { mode });
          this.open.add(ws);
          ws.on('close', () => (this.open.delete(ws), resolve())).on('error', reject);
          entry.pipe(ws);
        }),
    );
    this.writes.push(
      done.catch((err: unknown) => {
        this.result.problems.push(`${name}: ${(err as Error).message}`);
      }),
    );
  }
}

function relativeName(root: string, path: string): string {
  return JSON.stringify(relative(root, path));
}
