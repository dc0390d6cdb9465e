// The collector (`kubestep collect-artifacts`, in the test pod): waits until it is stopped, then
// writes the artifacts directory as a tar stream in base64 lines to stdout (frames.ts), and ends
// with exit 0 so that the pod's result stays its main containers'. Imperative shell.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { create } from 'tar';
import { encodeFrame, FRAME_BYTES } from './frames.js';

/**
 * Waits for `stop` (SIGTERM: the pod is being deleted) or `deadlineMs` (ms from now: kubestep is
 * gone, the pod must end by itself), then sends `dir` to `out`: BEGIN, the tar in lines of
 * FRAME_BYTES, END with its size and SHA-256. Errors become a NOTE line; it never throws.
 * Symbolic links are sent as links (the receiver refuses them); file modes are kept.
 */
export async function collectArtifacts(
  dir: string,
  deadlineMs: number,
  stop: Promise<void>,
  out: Writable,
  pace: { bytesPerSecond: number; lingerMs: number } = { bytesPerSecond: Infinity, lingerMs: 0 },
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    stop.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadlineMs))),
  ]);
  clearTimeout(timer);
  const started = Date.now();
  let sent = 0;
  const write = async (line: string) => {
    await new Promise<void>((resolve) => {
      if (out.write(`${line}\n`)) resolve();
      else out.once('drain', resolve);
    });
    // At most bytesPerSecond: the kubelet rotates a container's log at 10 MiB, and a reader that
    // falls behind by more than that loses lines.
    sent += line.length + 1;
    const aheadMs = (sent / pace.bytesPerSecond) * 1000 - (Date.now() - started);
    if (aheadMs > 50) await new Promise((r) => setTimeout(r, aheadMs));
  };
  try {
    const entries = await readdir(dir);
    await write(encodeFrame({ kind: 'begin' }));
    const hash = createHash('sha256');
    let size = 0;
    let pending = Buffer.alloc(0);
    const flush = async (all: boolean) => {
      while (pending.length >= FRAME_BYTES || (all && pending.length > 0)) {
        const bytes = pending.subarray(0, FRAME_BYTES);
        pending = pending.subarray(bytes.length);
        await write(encodeFrame({ kind: 'data', bytes }));
      }
    };
    const tar = create({ cwd: dir, portable: true, follow: false }, entries.sort());
    for await (const chunk of tar as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      pending = Buffer.concat([pending, chunk]);
      await flush(false);
    }
    await flush(true);
    await write(encodeFrame({ kind: 'end', size, sha256: hash.digest('hex') }));
  } catch (err) {
    await write(
      encodeFrame({ kind: 'note', message: `could not send ${dir}: ${(err as Error).message}` }),
    );
  }
  // Stopped by the pod's deletion: its log goes with it once the container has ended, so stay a
  // little while kubestep may still be reading (the grace period ends it anyway).
  if (stopped) await new Promise((r) => setTimeout(r, pace.lingerMs));
}

/** The collector's pace in a pod (see collectArtifacts). */
export const POD_PACE = { bytesPerSecond: 8 * 1024 * 1024, lingerMs: 10_000 };

/**
 * `kubestep collect-artifacts --dir DIR --deadline SECONDS`: waits for SIGTERM (or SIGINT) or the
 * deadline, sends DIR, returns 0; 2 for arguments it does not understand.
 */
export async function collectCommand(
  args: readonly string[],
  out: Writable,
  err: Writable,
): Promise<number> {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const dir = value('--dir');
  const deadline = Number(value('--deadline'));
  if (!dir || !Number.isFinite(deadline) || deadline <= 0) {
    err.write('kubestep collect-artifacts: usage: --dir DIR --deadline SECONDS\n');
    return 2;
  }
  const stop = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await collectArtifacts(dir, deadline * 1000, stop, out, POD_PACE);
  return 0;
}
