// Local stand-ins for the Google services kubestep talks to, speaking their wire protocols on
// loopback only: the GCE metadata server (tokens, project), the GKE API (clusters.get), a TLS
// proxy in front of the real API server that accepts only the tokens the metadata server issued,
// and Cloud Logging's REST endpoint (entries.write).
import { createServer as createHttp, request as httpsRequest } from 'node:https';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started stand-in: `127.0.0.1:PORT`, and how to stop it. */
export interface StandIn {
  host: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const stop = (server: Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const bearerOf = (req: IncomingMessage) =>
  /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

/** Tokens issued by the metadata stand-in, with when; valid for `validMs` after issue. */
export class TokenBook {
  readonly issuedAt = new Map<string, number>();
  constructor(readonly validMs: number) {}
  issue(): string {
    const t = `ya29.test-${this.issuedAt.size + 1}-${Math.random().toString(36).slice(2)}`;
    this.issuedAt.set(t, Date.now());
    return t;
  }
  isValid(token: string | undefined): boolean {
    const at = token ? this.issuedAt.get(token) : undefined;
    return at !== undefined && Date.now() - at <= this.validMs;
  }
}

/**
 * The GCE metadata server (`GCE_METADATA_HOST`): `Metadata-Flavor: Google` required; issues
 * tokens with `expires_in` = `expiresInSeconds` (google-auth-library refreshes 5 min before the
 * end), answers the project id. `paths` records every request. After `maxTokens` tokens it
 * answers 500 to token requests (credentials that stop working during a run).
 * Source: https://cloud.google.com/compute/docs/metadata/predefined-metadata-keys
 */
export async function startMetadataServer(opts: {
  project: string;
  tokens: TokenBook;
  expiresInSeconds: number;
  maxTokens?: number;
}): Promise<StandIn & { paths: string[] }> {
  let issued = 0;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('Metadata-Flavor', 'Google');
    if (req.headers['metadata-flavor'] !== 'Google')
      return send(res, 403, 'missing Metadata-Flavor');
    const path = (req.url ?? '').split('?')[0];
    switch (path) {
      case '/':
      case '/computeMetadata/v1/':
      case '/computeMetadata/v1/instance':
        return send(res, 200, '');
      case '/computeMetadata/v1/instance/service-accounts/default/token':
        if (++issued > (opts.maxTokens ?? Infinity)) return send(res, 500, 'no more tokens');
        return sendJson(res, 200, {
          access_token: opts.tokens.issue(),
          expires_in: opts.expiresInSeconds,
          token_type: 'Bearer',
        });
      case '/computeMetadata/v1/project/project-id':
        return send(res, 200, opts.project);
      case '/computeMetadata/v1/universe/universe-domain':
        return send(res, 200, 'googleapis.com');
      case '/computeMetadata/v1/instance/service-accounts/default/email':
        return send(res, 200, 'kubestep@test.iam.gserviceaccount.com');
      default:
        return send(res, 404, 'not found');
    }
  });
  const host = await listen(server);
  return { host, paths, close: stop(server) };
}

/**
 * The GKE API: `GET /v1/projects/P/locations/L/clusters/C` with a valid token answers `cluster`
 * for `name`, 404 for other names, 401 without a valid token.
 * Source: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters/get
 */
export async function startGkeApi(opts: {
  tokens: TokenBook;
  name: string;
  cluster: Record<string, unknown>;
}): Promise<StandIn & { gets: number }> {
  const state = { gets: 0 };
  const server = createServer((req, res) => {
    if (!opts.tokens.isValid(bearerOf(req))) return sendJson(res, 401, { error: { code: 401 } });
    if (req.method === 'GET' && req.url === `/v1/${opts.name}`) {
      state.gets++;
      return sendJson(res, 200, opts.cluster);
    }
    sendJson(res, 404, { error: { code: 404, message: 'cluster not found' } });
  });
  const host = await listen(server);
  return {
    host,
    get gets() {
      return state.gets;
    },
    close: stop(server),
  };
}

/**
 * A TLS proxy in front of the real API server (`upstream`, trusted with `upstreamCa`): it serves
 * `cert`/`key` (the API server's own, valid for 127.0.0.1), accepts a request only with a token
 * that `tokens` issued and that is still valid, and forwards it with `upstreamToken` instead.
 * Streams (watch, logs) are piped both ways.
 */
export async function startBearerProxy(opts: {
  tokens: TokenBook;
  upstream: string;
  upstreamCa: string;
  upstreamToken: string;
  cert: string;
  key: string;
}): Promise<StandIn & { accepted: number; refused: number; tokensSeen: Set<string> }> {
  const state = { accepted: 0, refused: 0, tokensSeen: new Set<string>() };
  const up = new URL(opts.upstream);
  const server = createHttp({ cert: opts.cert, key: opts.key }, (req, res) => {
    const token = bearerOf(req);
    if (!opts.tokens.isValid(token)) {
      state.refused++;
      return sendJson(res, 401, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    state.accepted++;
    state.tokensSeen.add(token!);
    const headers = {
      ...req.headers,
      host: up.host,
      authorization: `Bearer ${opts.upstreamToken}`,
    };
    const fwd = httpsRequest(
      {
        host: up.hostname,
        port: up.port,
        path: req.url,
        method: req.method,
        headers,
        ca: opts.upstreamCa,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    res.on('close', () => fwd.destroy());
    req.pipe(fwd);
  });
  const host = await listen(server);
  return {
    host,
    get accepted() {
      return state.accepted;
    },
    get refused() {
      return state.refused;
    },
    tokensSeen: state.tokensSeen,
    close: stop(server),
  };
}

function send(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain' });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** LogSeverity's numbers, which the REST transport sends (`enum-encoding=int`). */
const SEVERITY_NAMES: Record<number, string> = {
  0: 'DEFAULT',
  100: 'DEBUG',
  200: 'INFO',
  300: 'NOTICE',
  400: 'WARNING',
  500: 'ERROR',
  600: 'CRITICAL',
  700: 'ALERT',
  800: 'EMERGENCY',
};

/** An entry with its severity as the API's name, as Cloud Logging stores it. */
function withSeverityName(entry: Record<string, unknown>): Record<string, unknown> {
  const s = entry.severity;
  return typeof s === 'number' ? { ...entry, severity: SEVERITY_NAMES[s] ?? String(s) } : entry;
}

/** The status names Google APIs give with these HTTP codes. Source: google.rpc.Code */
const RPC_STATUS: Record<number, string> = {
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
};

/** One `entries.write` request as the Cloud Logging stand-in received it. */
export interface WriteRequest {
  logName?: string;
  resource?: unknown;
  entries: Record<string, unknown>[];
}

/**
 * Cloud Logging's REST endpoint: `POST /v2/entries:write` with a valid token records the request
 * and answers `{}`. `script([429, 200, 503])` makes the next requests answer these statuses in
 * turn (200: as usual); `fail(n, status)` makes the next n requests after that answer `status`
 * (429, 500, 503). Failed requests are not recorded.
 * Source: https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/write
 */
export async function startLoggingApi(opts: { tokens: TokenBook }): Promise<
  StandIn & {
    writes: WriteRequest[];
    refused: number;
    /** Requests answered with a `fail` status. */
    failed: number;
    fail(n: number, status: number): void;
    script(statuses: number[]): void;
    entries(): Record<string, unknown>[];
  }
> {
  const writes: WriteRequest[] = [];
  const state = { refused: 0, failed: 0, failLeft: 0, failStatus: 503, script: [] as number[] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!opts.tokens.isValid(bearerOf(req))) {
        state.refused++;
        return sendJson(res, 401, { error: { code: 401, message: 'no valid token' } });
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/v2/entries:write')) {
        return sendJson(res, 404, { error: { code: 404, message: `no ${req.method} ${req.url}` } });
      }
      let status = state.script.shift() ?? 200;
      if (status === 200 && state.failLeft > 0) {
        state.failLeft--;
        status = state.failStatus;
      }
      if (status !== 200) {
        state.failed++;
        return sendJson(res, status, {
          error: { code: status, message: 'stand-in failure', status: RPC_STATUS[status] },
        });
      }
      writes.push(JSON.parse(Buffer.concat(chunks).toString()) as WriteRequest);
      sendJson(res, 200, {});
    });
  });
  const host = await listen(server);
  return {
    host,
    writes,
    get refused() {
      return state.refused;
    },
    get failed() {
      return state.failed;
    },
    fail(n, status) {
      state.failLeft = n;
      state.failStatus = status;
    },
    script(statuses) {
      state.script = [...statuses];
    },
    entries: () => writes.flatMap((w) => w.entries.map(withSeverityName)),
    close: stop(server),
  };
}
