// A fault-injecting HTTPS proxy on loopback in front of the real API server, for the fault
// tests: it terminates TLS with the API server's own certificate (valid for 127.0.0.1), forwards
// each request with the client's own credentials, and injects faults by knobs that a test may
// change while kubestep runs: dropped watches, 5xx/429 answers (also after the request took
// effect upstream), delays, cut log streams, expired resourceVersions (410 Gone in a watch), and
// an unreachable API server. Bounded: every fault is counted; nothing leaves loopback.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

/** What the proxy does wrong; every knob off by default. */
export interface FaultKnobs {
  /** End each watch this long after it started, ms. */
  watchDropAfterMs?: number;
  /** End each watch after this many events. */
  watchDropAfterEvents?: number;
  /** Answer every n-th request that is neither a watch nor a log stream with an error. */
  errorEvery?: number;
  /** The statuses those errors take in turn (500, 503, 429). */
  errorStatuses?: number[];
  /** Send the error only after the request was forwarded and took effect (a lost answer). */
  errorAfterForwarding?: boolean;
  /** `Retry-After` on 429 and 503 answers, s; absent when undefined. */
  retryAfterSeconds?: number;
  /** Wait this long before forwarding each request, ms. */
  delayMs?: number;
  /** Cut each log stream after this many bytes of it. */
  logCutBytes?: number;
  /** Answer this many of the next watches with a 410 Gone ERROR event (expired resourceVersion). */
  goneWatches?: number;
  /** Reset every connection, open and new: the API server is unreachable. */
  unreachable?: boolean;
  /**
   * Answer requests whose `METHOD path?query` (decoded) matches `request` with `status`, at most
   * `times` of them (unbounded when undefined); each one answered counts down.
   */
  refuse?: { request: RegExp; status: number; times?: number };
}

/** What the proxy did, by kind of fault. */
export interface FaultCounts {
  requests: number;
  errors: number;
  watchDrops: number;
  logCuts: number;
  gone: number;
  resets: number;
  /** Requests by method and path without query, e.g. `POST /apis/batch/v1/namespaces/x/jobs`. */
  byRoute: Map<string, number>;
  /** Every request in order: `METHOD path?query` (decoded) and when it arrived (performance.now()). */
  trail: { atMs: number; request: string }[];
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `https://127.0.0.1:PORT`. */
  server: string;
  counts: FaultCounts;
  /** Client connections open now. */
  openSockets(): number;
  /** Changes the knobs (merged into the current ones). */
  set(knobs: FaultKnobs): void;
  /** A copy of `kubeconfig` (a file) whose clusters point at the proxy; returns its path. */
  kubeconfigFor(kubeconfig: string, dir: string): string;
  close(): Promise<void>;
}

const PKI = process.env.K8S_LOCAL_DIR
  ? join(process.env.K8S_LOCAL_DIR, 'pki')
  : '/var/tmp/k8s-local/pki';

/** Starts a fault proxy to the API server at `upstream` (`https://127.0.0.1:6443`). */
export async function startFaultProxy(
  upstream: string,
  initial: FaultKnobs = {},
): Promise<FaultProxy> {
  const knobs: FaultKnobs = { ...initial };
  const counts: FaultCounts = {
    requests: 0,
    errors: 0,
    watchDrops: 0,
    logCuts: 0,
    gone: 0,
    resets: 0,
    byRoute: new Map(),
    trail: [],
  };
  const up = new URL(upstream);
  const ca = readFileSync(join(PKI, 'ca.crt'));
  const sockets = new Set<Socket>();
  let plain = 0;

  const fail = (res: ServerResponse, status: number) => {
    counts.errors++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if ((status === 429 || status === 503) && knobs.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(knobs.retryAfterSeconds);
    }
    res.writeHead(status, headers);
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: `injected ${status}`,
        reason: status === 429 ? 'TooManyRequests' : status === 403 ? 'Forbidden' : 'InternalError',
        code: status,
      }),
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    counts.requests++;
    const url = new URL(req.url ?? '/', 'https://x');
    const route = `${req.method} ${url.pathname}`;
    counts.byRoute.set(route, (counts.byRoute.get(route) ?? 0) + 1);
    const request = `${req.method} ${decodeURIComponent(url.pathname + url.search)}`;
    counts.trail.push({ atMs: performance.now(), request });
    if (knobs.unreachable) {
      counts.resets++;
      req.socket.destroy();
      return;
    }
    const refuse = knobs.refuse;
    if (refuse && (refuse.times ?? 1) > 0 && refuse.request.test(request)) {
      if (refuse.times !== undefined) refuse.times--;
      req.resume();
      return fail(res, refuse.status);
    }
    const isWatch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const isLog = url.pathname.endsWith('/log');
    if (isWatch && (knobs.goneWatches ?? 0) > 0) {
      knobs.goneWatches = (knobs.goneWatches ?? 0) - 1;
      counts.gone++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            message: 'too old resource version (injected)',
            reason: 'Expired',
            code: 410,
          },
        }) + '\n',
      );
      return;
    }
    let injectStatus: number | undefined;
    if (!isWatch && !isLog && knobs.errorEvery && ++plain % knobs.errorEvery === 0) {
      const statuses = knobs.errorStatuses ?? [500];
      injectStatus = statuses[Math.floor(plain / knobs.errorEvery) % statuses.length];
      if (!knobs.errorAfterForwarding) return fail(res, injectStatus!);
    }
    if (knobs.delayMs) await new Promise((r) => setTimeout(r, knobs.delayMs));
    const fwd = httpsRequest(
      {
        host: up.hostname,
        port: up.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: up.host },
        ca,
      },
      (answer) => {
        if (injectStatus !== undefined) {
          // The request took effect; its answer is lost.
          answer.resume();
          answer.on('end', () => fail(res, injectStatus));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Node holds headers back until the first body byte; a quiet watch must still get them
        // at once, as from the API server.
        res.flushHeaders();
        if (isWatch) return pipeWatch(answer, res);
        if (isLog && knobs.logCutBytes) return pipeCut(answer, res, knobs.logCutBytes);
        answer.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    res.on('close', () => fwd.destroy());
    req.pipe(fwd);
  };

  const pipeWatch = (answer: IncomingMessage, res: ServerResponse) => {
    let events = 0;
    const drop = () => {
      counts.watchDrops++;
      answer.destroy();
      res.end();
    };
    const timer = knobs.watchDropAfterMs ? setTimeout(drop, knobs.watchDropAfterMs) : undefined;
    res.on('close', () => clearTimeout(timer));
    answer.on('data', (d: Buffer) => {
      res.write(d);
      for (const b of d) if (b === 10) events++;
      if (knobs.watchDropAfterEvents && events >= knobs.watchDropAfterEvents) {
        clearTimeout(timer);
        drop();
      }
    });
    answer.on('end', () => res.end());
  };

  const pipeCut = (answer: IncomingMessage, res: ServerResponse, limit: number) => {
    let sent = 0;
    answer.on('data', (d: Buffer) => {
      if (sent + d.length < limit) {
        sent += d.length;
        res.write(d);
        return;
      }
      res.write(d.subarray(0, limit - sent));
      counts.logCuts++;
      answer.destroy();
      // Dropped mid-body, as a load balancer would.
      res.socket?.destroy();
    });
    answer.on('end', () => res.end());
  };

  const server = createServer(
    {
      cert: readFileSync(join(PKI, 'apiserver.crt')),
      key: readFileSync(join(PKI, 'apiserver.key')),
    },
    (req, res) => void handle(req, res),
  );
  server.on('connection', (s: Socket) => {
    if (knobs.unreachable) {
      // Refused before TLS: connection reset.
      counts.resets++;
      s.resetAndDestroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server: `https://127.0.0.1:${port}`,
    counts,
    openSockets: () => sockets.size,
    set(k) {
      Object.assign(knobs, k);
      if (k.unreachable) {
        for (const s of sockets) {
          counts.resets++;
          s.resetAndDestroy();
        }
      }
    },
    kubeconfigFor(kubeconfig, dir) {
      const text = readFileSync(kubeconfig, 'utf8').replace(
        /server: *"?https:\/\/127\.0\.0\.1:6443"?/g,
        `server: "https://127.0.0.1:${port}"`,
      );
      if (!text.includes(`127.0.0.1:${port}`))
        throw new Error(`no server to replace in ${kubeconfig}`);
      const file = join(dir, 'kubeconfig-faults');
      writeFileSync(file, text);
      return file;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
