// The transport (src/kube/client.ts) against loopback HTTPS servers with the local cluster's
// certificates: HTTP/1.1 only, one exec plugin run for concurrent requests, and a client
// certificate that an exec plugin rotates is used from the next request on.
import { KubeConfig } from '@kubernetes/client-node';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, tlsKey } from '../src/kube/client.js';
import { PODS } from '../src/kube/resources.js';

const PKI = process.env.K8S_LOCAL_PKI ?? '/var/tmp/k8s-local/pki';
const pem = (name: string) => readFileSync(join(PKI, name), 'utf8');

/** What the server saw of each request. */
interface Seen {
  httpVersion: string;
  /** CN of the client certificate, when one was presented. */
  clientCn?: string | undefined;
  authorization?: string | undefined;
}

/**
 * An HTTPS server on 127.0.0.1 that speaks HTTP/2 and HTTP/1.1 (ALPN), asks for a client
 * certificate signed by the cluster CA, and answers every request with an empty PodList.
 */
async function startServer(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = createSecureServer(
    {
      allowHTTP1: true,
      cert: pem('apiserver.crt'),
      key: pem('apiserver.key'),
      ca: pem('ca.crt'),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req: Http2ServerRequest, res: Http2ServerResponse) => {
      const socket = req.socket as unknown as TLSSocket;
      const peer = socket.getPeerCertificate?.();
      seen.push({
        httpVersion: req.httpVersion,
        clientCn: peer && 'subject' in peer ? String(peer.subject?.CN) : undefined,
        authorization: req.headers.authorization,
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'kubestep-transport-'));
let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

/** A kubeconfig for `server` whose user is `user` (client-node's User shape). */
function kubeConfig(server: string, user: Record<string, unknown>): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: Buffer.from(pem('ca.crt')).toString('base64') }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/**
 * An exec credential plugin: each run appends a line to `count` and prints the ExecCredential in
 * `current` (which the test rewrites to rotate it).
 */
function execPlugin(name: string): {
  user: Record<string, unknown>;
  count: string;
  current: string;
  script: string;
} {
  const count = join(dir, `${name}.count`);
  const current = join(dir, `${name}.json`);
  const script = join(dir, `${name}.sh`);
  writeFileSync(count, '');
  // A little slow, as real plugins (gke-gcloud-auth-plugin, aws) are.
  writeFileSync(script, `#!/bin/sh\necho run >> '${count}'\nsleep 0.2\ncat '${current}'\n`);
  chmodSync(script, 0o755);
  return {
    user: {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: script,
        args: [],
        interactiveMode: 'Never',
      },
    },
    count,
    current,
    script,
  };
}

function credential(status: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    status,
  });
}

const runs = (countFile: string) => readFileSync(countFile, 'utf8').split('\n').filter(Boolean);
const list = (client: KubeClient) => client.list(PODS, 'default', {}, AbortSignal.timeout(10_000));

describe('transport', () => {
  it('speaks HTTP/1.1 to a server that offers HTTP/2 too', async () => {
    const s = await startServer();
    closers.push(() => s.close());
    const client = new KubeClient(
      kubeConfig(s.url, { certData: b64(pem('admin.crt')), keyData: b64(pem('admin.key')) }),
    );
    closers.push(() => client.close());
    await Promise.all([list(client), list(client), list(client)]);
    expect(s.seen.map((r) => r.httpVersion)).toEqual(['1.1', '1.1', '1.1']);
  });

  it('runs an exec credential plugin once for 10 requests sent at once', async () => {
    const s = await startServer();
    closers.push(() => s.close());
    const plugin = execPlugin('single');
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    writeFileSync(plugin.current, credential({ token: 'tok-1', expirationTimestamp: expires }));
    const client = new KubeClient(kubeConfig(s.url, plugin.user));
    closers.push(() => client.close());
    await Promise.all(Array.from({ length: 10 }, () => list(client)));
    expect(runs(plugin.count)).toHaveLength(1);
    expect(s.seen.map((r) => r.authorization)).toEqual(Array(10).fill('Bearer tok-1'));
  });

  it('uses the client certificate an exec plugin rotates from the next request on', async () => {
    const s = await startServer();
    closers.push(() => s.close());
    const plugin = execPlugin('rotate');
    const expiresMs = Date.now() + 1_500;
    writeFileSync(
      plugin.current,
      credential({
        clientCertificateData: pem('admin.crt'),
        clientKeyData: pem('admin.key'),
        expirationTimestamp: new Date(expiresMs).toISOString(),
      }),
    );
    const client = new KubeClient(kubeConfig(s.url, plugin.user));
    closers.push(() => client.close());
    await list(client);
    writeFileSync(
      plugin.current,
      credential({
        clientCertificateData: pem('kube-scheduler.crt'),
        clientKeyData: pem('kube-scheduler.key'),
        expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    // Until the first credential expires the plugin is not asked again.
    await list(client);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresMs - Date.now()) + 100));
    await list(client);
    await list(client);
    expect(runs(plugin.count)).toHaveLength(2);
    expect(s.seen.map((r) => r.clientCn)).toEqual([
      'k8s-local-admin',
      'k8s-local-admin',
      'system:kube-scheduler',
      'system:kube-scheduler',
    ]);
  });
});

describe('exec plugin failures', () => {
  it.each([
    [
      'a plugin that fails: its first line only',
      `#!/bin/sh\necho "error: token expired; run: login" >&2\necho "Bearer eyJhbGciOi.secret.token" >&2\nexit 1\n`,
      /credentials could not be loaded: error: token expired; run: login; check its exec plugin/,
    ],
    [
      'a plugin that prints a token instead of an ExecCredential',
      `#!/bin/sh\necho "eyJhbGciOi.secret.token"\n`,
      /credentials could not be loaded: the exec plugin printed something that is not JSON;/,
    ],
  ])('%s', async (_name, script, message) => {
    const plugin = execPlugin(`fail-${message.source.length}`);
    writeFileSync(plugin.script, script);
    const client = new KubeClient(kubeConfig('https://127.0.0.1:1', plugin.user));
    closers.push(() => client.close());
    const failed = list(client);
    await expect(failed).rejects.toThrow(message);
    await expect(failed).rejects.not.toThrow(/secret\.token/);
  });
});

describe('tlsKey', () => {
  it.each([
    ['the same material', { cert: 'A', key: 'K' }, { cert: 'A', key: 'K' }, true],
    ['strings and bytes alike', { cert: 'A' }, { cert: Buffer.from('A') }, true],
    ['another certificate', { cert: 'A', key: 'K' }, { cert: 'B', key: 'K' }, false],
    ['another CA', { ca: 'X' }, { ca: 'Y' }, false],
    ['verification off', {}, { rejectUnauthorized: false }, false],
    ['a value moved between fields', { cert: 'A' }, { key: 'A' }, false],
  ])('%s', (_name, a, b, equal) => {
    expect(tlsKey(a) === tlsKey(b)).toBe(equal);
  });
});

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}
