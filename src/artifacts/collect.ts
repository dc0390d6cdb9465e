// The collector (`kubestep collect-artifacts`, in the test pod). The direct path: an HTTP server
// on the pod's port COLLECTOR_PORT that kubestep reaches through the API server (pods/proxy) once
// the main containers have ended: the artifacts directory as a tar, then kubestep confirms its size
// and SHA-256. The log path, when that did not happen: once stopped, the tar in base64 lines to
// stdout (frames.ts). Ends with exit 0 so that the pod's result stays its main containers'.
// Imperative shell.
import { createHash, timingSafeEqual } from 'node:crypto';
import { accessSync, constants, Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { create } from 'tar';

const { R_OK, X_OK } = constants;
import { encodeFrame, FRAME_BYTES } from './frames.js';
import { TOKEN_ENV, TOKEN_HEADER } from './inject.js';

/**
 * The directory as a tar stream (entries in name order, links as links, modes kept); `only`: just
 * those entries of it that exist. Files and directories the collector may not read (a test that
 * ran as another user and wrote mode 0600) are left out and added to `unreadable`. Nothing to
 * send is an empty archive (its two zero blocks).
 */
async function* tarOf(
  dir: string,
  only?: readonly string[],
  unreadable: string[] = [],
): AsyncGenerator<Buffer> {
  const all = (await readdir(dir)).sort();
  const entries = only === undefined ? all : all.filter((e) => only.includes(e));
  if (entries.length === 0) {
    yield Buffer.alloc(1024);
    return;
  }
  const readable = (path: string, stat: object) => {
    // Only a file system entry is checked (tar also filters entries it reads back).
    if (!(stat instanceof Stats) || (!stat.isDirectory() && !stat.isFile())) return true;
    try {
      accessSync(join(dir, path), stat.isDirectory() ? R_OK | X_OK : R_OK);
      return true;
    } catch {
      unreadable.push(path);
      return false;
    }
  };
  const tar = create(
    { cwd: dir, portable: true, follow: false, filter: (path, stat) => readable(path, stat) },
    entries,
  );
  for await (const chunk of tar as AsyncIterable<Buffer>) yield chunk;
}

/** Resolves when `res` can take more, or has closed (listeners removed either way). */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** The collector's HTTP server. */
export interface DirectServer {
  /** kubestep confirmed that a tar arrived whole: the log path is not needed. */
  confirmed(): boolean;
  /** The port it listens on (the one asked for; a free one for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on `port` to requests that carry `token` in the TOKEN_HEADER header (403
 * otherwise): `GET /artifacts.tar` sends the directory as a tar (made at each request);
 * `GET /done?size=N&sha256=HEX` answers 200 and marks the artifacts delivered when a tar of that
 * size and SHA-256 was sent whole (the body: `ok`, then `unreadable "PATH"` for each path left out
 * because the collector may not read it), 409 when not. Rejects when it cannot listen (a port in use).
 */
export async function serveArtifacts(
  dir: string,
  port: number,
  token: string,
  host = '0.0.0.0',
  only?: readonly string[],
): Promise<DirectServer> {
  /** Tars sent whole (`size sha256`), with the paths each left out as unreadable. */
  const sent = new Map<string, string[]>();
  let delivered = false;
  const expected = Buffer.from(token);
  const authorized = (req: IncomingMessage) => {
    const got = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ''));
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  const send = async (res: ServerResponse) => {
    const hash = createHash('sha256');
    let size = 0;
    res.writeHead(200, { 'content-type': 'application/x-tar' });
    const unreadable: string[] = [];
    for await (const chunk of tarOf(dir, only, unreadable)) {
      if (res.destroyed) return;
      hash.update(chunk);
      size += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
    await new Promise<void>((r) => res.end(r));
    sent.set(`${size} ${hash.digest('hex')}`, unreadable);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://collector');
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (!authorized(req)) return void res.writeHead(403).end('forbidden\n');
    if (url.pathname === '/artifacts.tar') {
      send(res).catch((err: unknown) => res.destroy(err as Error));
    } else if (url.pathname === '/done') {
      const key = `${url.searchParams.get('size')} ${url.searchParams.get('sha256')}`;
      const left = sent.get(key);
      delivered ||= left !== undefined;
      // The answer: `ok`, `uid N`, then one `unreadable PATH` line (JSON-quoted) per path left out.
      if (left === undefined) res.writeHead(409).end('not sent\n');
      else
        res
          .writeHead(200)
          .end(
            [
              'ok',
              `uid ${process.getuid?.() ?? '?'}`,
              ...left.map((p) => `unreadable ${JSON.stringify(p)}`),
            ].join('\n') + '\n',
          );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => (server.off('error', reject), resolve()));
  });
  const address = server.address();
  return {
    confirmed: () => delivered,
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Waits for `stop` (SIGTERM: the pod is being deleted) or `deadlineMs` (ms from now: kubestep is
 * gone, the pod must end by itself), then, unless `direct` delivered them, sends `dir` to `out`:
 * BEGIN, the tar in lines of FRAME_BYTES, END with its size and SHA-256. Errors become a NOTE
 * line; it never throws. Symbolic links are sent as links (the receiver refuses them); file modes
 * are kept.
 */
export async function collectArtifacts(
  dir: string,
  deadlineMs: number,
  stop: Promise<void>,
  out: Writable,
  pace: { bytesPerSecond: number; lingerMs: number } = { bytesPerSecond: Infinity, lingerMs: 0 },
  direct?: DirectServer,
  only?: readonly string[],
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    stop.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadlineMs))),
  ]);
  clearTimeout(timer);
  await direct?.close();
  if (direct?.confirmed()) {
    out.write('kubestep collector: the artifacts were fetched through the API server\n');
    return;
  }
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
    await readdir(dir);
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
    const unreadable: string[] = [];
    for await (const chunk of tarOf(dir, only, unreadable)) {
      hash.update(chunk);
      size += chunk.length;
      pending = Buffer.concat([pending, chunk]);
      await flush(false);
    }
    await flush(true);
    if (unreadable.length > 0)
      await write(
        encodeFrame({ kind: 'note', message: unreadableNote(unreadable, process.getuid?.()) }),
      );
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

/**
 * What is said of the paths the collector could not read (at most 20 named); `uid`: the
 * collector's, when known.
 */
export function unreadableNote(paths: readonly string[], uid?: number): string {
  const named = paths.slice(0, 20).map((p) => JSON.stringify(p));
  const more = paths.length > 20 ? ` and ${paths.length - 20} more` : '';
  const who = uid === undefined ? 'the collector' : `the collector (uid ${uid})`;
  return `not readable by ${who}, left out: ${named.join(', ')}${more}; write them readable for others (mode 0644), or run the tests as the collector's user (README: Artifacts)`;
}

/** The collector's pace in a pod (see collectArtifacts). */
export const POD_PACE = { bytesPerSecond: 8 * 1024 * 1024, lingerMs: 10_000 };

/**
 * `kubestep collect-artifacts --dir DIR --deadline SECONDS [--port PORT] [--only NAME ...]`
 * (`--only`, repeatable: just those entries of DIR, e.g. the outputs file): with a port and the
 * token in TOKEN_ENV, serves DIR (serveArtifacts; a port it cannot listen on is said and skipped);
 * waits for SIGTERM (or SIGINT) or the deadline, sends DIR through stdout unless it was fetched,
 * returns 0; 2 for arguments it does not understand.
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
  const only = args.flatMap((a, i) => (a === '--only' && args[i + 1] ? [args[i + 1]!] : []));
  const deadline = Number(value('--deadline'));
  if (!dir || !Number.isFinite(deadline) || deadline <= 0) {
    err.write('kubestep collect-artifacts: usage: --dir DIR --deadline SECONDS\n');
    return 2;
  }
  const port = value('--port') === undefined ? undefined : Number(value('--port'));
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    err.write('kubestep collect-artifacts: --port takes a port number\n');
    return 2;
  }
  const stop = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  const token = process.env[TOKEN_ENV];
  let direct: DirectServer | undefined;
  if (port !== undefined && token) {
    direct = await serveArtifacts(
      dir,
      port,
      token,
      '0.0.0.0',
      only.length ? only : undefined,
    ).catch((e: unknown) => {
      out.write(
        `kubestep collector: cannot listen on port ${port} (${(e as Error).message}): the artifacts go through this log\n`,
      );
      return undefined;
    });
  }
  const entries = only.length ? only : undefined;
  await collectArtifacts(dir, deadline * 1000, stop, out, POD_PACE, direct, entries);
  return 0;
}
