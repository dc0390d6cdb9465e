// Cluster access without a kubeconfig: GKE through Application Default Credentials and the GKE
// API (stand-ins on loopback in front of the real API server), and --server with a token.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startBearerProxy,
  startGkeApi,
  startMetadataServer,
  TokenBook,
  type StandIn,
} from './gcp-stand-ins.js';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('gke');

const PKI = process.env.K8S_LOCAL_PKI ?? '/var/tmp/k8s-local/pki';
const CLUSTER = 'projects/test-project/locations/europe-west1/clusters/ci';

/** Token, server and CA of the kubestep ServiceAccount's kubeconfig. */
function serviceAccount(kubeconfig: string): { token: string; server: string } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { token: kc.getCurrentUser()!.token!, server: kc.getCurrentCluster()!.server };
}

describe('GKE without gcloud', () => {
  // Tokens are good for 6 s at the proxy; google-auth-library refreshes a token 300 s before its
  // expires_in (303 s), so after 3 s: a run of 10 s needs fresh ones.
  const tokens = new TokenBook(6_000);
  let meta: StandIn & { paths: string[] };
  let proxy: Awaited<ReturnType<typeof startBearerProxy>>;
  let gke: Awaited<ReturnType<typeof startGkeApi>>;
  const env = () => ({
    KUBECONFIG: '',
    HOME: mkdtempSync(join(tmpdir(), 'kubestep-home-')),
    GCE_METADATA_HOST: meta.host,
    METADATA_SERVER_DETECTION: 'assume-present',
    KUBESTEP_GKE_API_ENDPOINT: `http://${gke.host}`,
  });

  beforeAll(async () => {
    const sa = serviceAccount(t.kubeconfig);
    const ca = readFileSync(join(PKI, 'ca.crt'), 'utf8');
    meta = await startMetadataServer({ project: 'test-project', tokens, expiresInSeconds: 303 });
    proxy = await startBearerProxy({
      tokens,
      upstream: sa.server,
      upstreamCa: ca,
      upstreamToken: sa.token,
      cert: readFileSync(join(PKI, 'apiserver.crt'), 'utf8'),
      key: readFileSync(join(PKI, 'apiserver.key'), 'utf8'),
    });
    gke = await startGkeApi({
      tokens,
      name: CLUSTER,
      cluster: {
        name: 'ci',
        endpoint: proxy.host,
        masterAuth: { clusterCaCertificate: Buffer.from(ca).toString('base64') },
      },
    });
  });
  afterAll(async () => {
    await Promise.all([meta?.close(), proxy?.close(), gke?.close()]);
  });

  it('runs a Job authenticated only through ADC and the GKE API; the token refreshes during the run', async () => {
    const before = tokens.issuedAt.size;
    const f = manifestFile(jobYaml('gke', 'echo via gke; sleep 10; echo still here'));
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--gke-cluster', CLUSTER], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`GKE ${CLUSTER}, public endpoint, Application Default Credentials`);
    expect(r.stdout).toBe('via gke\nstill here\n');
    expect(gke.gets).toBeGreaterThanOrEqual(1);
    expect(proxy.refused).toBe(0);
    expect(proxy.accepted).toBeGreaterThan(5);
    // More than one token reached the API server: refreshed while the Job ran.
    expect(tokens.issuedAt.size - before).toBeGreaterThanOrEqual(2);
    expect(proxy.tokensSeen.size).toBeGreaterThanOrEqual(2);
    console.log(
      `gke: ${tokens.issuedAt.size - before} tokens issued, ${proxy.tokensSeen.size} used, ${proxy.accepted} requests through the proxy, ${r.ms} ms`,
    );
  });

  it("takes the cluster from Cloud Build's kubectl variables, the project from the credentials", async () => {
    const f = manifestFile(jobYaml('cloudsdk', 'echo from cloudsdk'));
    const r = await runCli(['run', '-f', f, '-n', t.ns], {
      env: { ...env(), CLOUDSDK_CONTAINER_CLUSTER: 'ci', CLOUDSDK_COMPUTE_REGION: 'europe-west1' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from cloudsdk\n');
    expect(meta.paths).toContain('/computeMetadata/v1/project/project-id');
  });

  it('exit 2 for a cluster that does not exist, and for missing credentials', async () => {
    const f = manifestFile(jobYaml('never', 'echo never'));
    const unknown = await runCli(
      [
        'run',
        '-f',
        f,
        '-n',
        t.ns,
        '--gke-cluster',
        'projects/test-project/locations/x/clusters/nope',
      ],
      { env: env() },
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'GKE cluster projects/test-project/locations/x/clusters/nope does not exist',
    );
    // No metadata server and no key file: nothing to authenticate with (no request leaves
    // loopback: detection is off and the host is a closed local port).
    const none = await runCli(['run', '-f', f, '-n', t.ns, '--gke-cluster', CLUSTER], {
      env: { ...env(), GCE_METADATA_HOST: '127.0.0.1:1', METADATA_SERVER_DETECTION: 'none' },
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /no Google credentials for the GKE cluster: .*GOOGLE_APPLICATION_CREDENTIALS/,
    );
  });
});

describe('--server with a token, no kubeconfig', () => {
  it('runs with --token-file and --certificate-authority, and with KUBESTEP_TOKEN and --certificate-authority-data', async () => {
    const sa = serviceAccount(t.kubeconfig);
    const tokenFile = manifestFile(sa.token + '\n', 'token');
    const caFile = join(PKI, 'ca.crt');
    const f = manifestFile(jobYaml('token', 'echo by token'));
    const noKubeconfig = { KUBECONFIG: '', HOME: mkdtempSync(join(tmpdir(), 'kubestep-home-')) };
    const byFile = await runCli(
      [
        'run',
        '-f',
        f,
        '-n',
        t.ns,
        '--server',
        sa.server,
        '--token-file',
        tokenFile,
        '--certificate-authority',
        caFile,
      ],
      { env: noKubeconfig },
    );
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(byFile.stdout).toBe('by token\n');
    expect(byFile.stderr).toContain(`--server, token from ${tokenFile}`);

    const caData = readFileSync(caFile).toString('base64');
    const byEnv = await runCli(
      ['run', '-f', f, '-n', t.ns, '--server', sa.server, '--certificate-authority-data', caData],
      { env: { ...noKubeconfig, KUBESTEP_TOKEN: sa.token } },
    );
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(byEnv.stderr).toContain('--server, token from KUBESTEP_TOKEN');
    // One variable per environment (Cloud Build secretEnv), named by --token-env.
    const byName = await runCli(
      [
        'run',
        '-f',
        f,
        '-n',
        t.ns,
        '--server',
        sa.server,
        '--certificate-authority-data',
        caData,
        '--token-env',
        'STAGING_TOKEN',
      ],
      { env: { ...noKubeconfig, STAGING_TOKEN: sa.token, KUBESTEP_TOKEN: 'not-this-one' } },
    );
    expect(byName.code, byName.stderr).toBe(0);
    expect(byName.stderr).toContain('--server, token from STAGING_TOKEN');
    // The token never appears in the output.
    const all = [byFile, byEnv, byName].map((r) => r.stderr + r.stdout).join('');
    expect(all).not.toContain(sa.token);
  });

  it('exit 2 without a token, for plain http, and without the CA the server needs (exit 3)', async () => {
    const sa = serviceAccount(t.kubeconfig);
    const f = manifestFile(jobYaml('token', 'echo by token'));
    const env = { KUBECONFIG: '', HOME: mkdtempSync(join(tmpdir(), 'kubestep-home-')) };
    const noToken = await runCli(['run', '-f', f, '--server', sa.server], { env });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain(
      '--server needs a bearer token: pass --token-file FILE or set KUBESTEP_TOKEN',
    );
    const unset = await runCli(['run', '-f', f, '--server', sa.server, '--token-env', 'NOPE'], {
      env: { ...env, KUBESTEP_TOKEN: 'x' },
    });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain(
      '--token-env NOPE: that environment variable is not set or empty',
    );
    const http = await runCli(['run', '-f', f, '--server', 'http://127.0.0.1:6443'], {
      env: { ...env, KUBESTEP_TOKEN: 'x' },
    });
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('is not https');
    const untrusted = await runCli(
      ['run', '-f', f, '-n', t.ns, '--server', sa.server, '--api-timeout', '2s'],
      {
        env: { ...env, KUBESTEP_TOKEN: sa.token },
      },
    );
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/certificate/i);
  });
});
