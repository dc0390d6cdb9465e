// examples/pipeline/cloudbuild.yaml, the deploy half, step by step as Cloud Build runs it: each
// environment's ServiceAccount (deploy/rbac-deploy.yaml) reached with --server and its own token
// (--token-env), the app's migration and rollout, the smoke test against the staging Service, the
// production diff and deploy; staging's token cannot change production.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYMENTS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { accountWithRules, rbacRules, runCli, useTestNamespace } from './harness.js';

const staging = useTestNamespace('staging');
const production = useTestNamespace('prod');
const DIR = fileURLToPath(new URL('../examples/pipeline', import.meta.url));

interface Credentials {
  token: string;
  server: string;
  ca: string;
}
const creds: { staging?: Credentials; production?: Credentials } = {};

function credentialsOf(kubeconfig: string): Credentials {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const cluster = kc.getCurrentCluster()!;
  const ca = cluster.caData ?? readFileSync(cluster.caFile!).toString('base64');
  return { token: kc.getCurrentUser()!.token!, server: cluster.server, ca };
}

beforeAll(async () => {
  // Staging's account also runs the smoke test there (deploy/rbac.yaml).
  creds.staging = credentialsOf(
    await accountWithRules(staging.client, staging.ns, 'kubestep-deploy', [
      ...rbacRules('deploy'),
      ...rbacRules(),
    ]),
  );
  creds.production = credentialsOf(
    await accountWithRules(
      production.client,
      production.ns,
      'kubestep-deploy',
      rbacRules('deploy'),
    ),
  );
}, 60_000);

const build = parse(readFileSync(`${DIR}/cloudbuild.yaml`, 'utf8')) as {
  steps: { id: string; args: string[]; env?: string[] }[];
};

/** Runs step `id` of the pipeline as Cloud Build would, with the local images and namespaces. */
async function step(
  id: string,
  version: string,
  tokens = { staging: creds.staging!, production: creds.production! },
) {
  const s = build.steps.find((x) => x.id === id)!;
  const values: Record<string, string> = {
    _CLUSTER_ENDPOINT: tokens.staging.server,
    _CLUSTER_CA: tokens.staging.ca,
    _STAGING_NAMESPACE: staging.ns,
    _PRODUCTION_NAMESPACE: production.ns,
    _APP_IMAGE: 'busybox:local',
    SHORT_SHA: version,
    BUILD_ID: `pipeline-${version}`,
  };
  const sub = (a: string) =>
    a
      .replace(/\$\{?(\w+)\}?/g, (m: string, name: string) => values[name] ?? m)
      .replace('SMOKE_IMAGE=busybox:1.36', 'SMOKE_IMAGE=busybox:local');
  const env = Object.fromEntries(
    (s.env ?? []).map((e) => sub(e).split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return runCli(s.args.map(sub), {
    cwd: DIR,
    env: {
      ...env,
      KUBECONFIG: '',
      STAGING_TOKEN: tokens.staging.token,
      PRODUCTION_TOKEN: tokens.production.token,
    },
    timeoutMs: 240_000,
  });
}

type Deployment = KubeObject & {
  spec: { template: { spec: { containers: { env?: { name: string; value: string }[] }[] } } };
  status?: { readyReplicas?: number; updatedReplicas?: number };
};
const versionIn = async (ns: string) => {
  const d = await staging.client.get<Deployment>(
    DEPLOYMENTS,
    ns,
    'web',
    AbortSignal.timeout(10_000),
  );
  return {
    version: d?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'VERSION')?.value,
    ready: d?.status?.readyReplicas,
    resourceVersion: d?.metadata?.resourceVersion,
  };
};

it('two versions through staging, smoke test and production: every step exits 0, both environments end with the new version; staging credentials cannot deploy to production (exit 3, nothing changed)', async () => {
  for (const version of ['v1', 'v2']) {
    for (const id of ['deploy-staging', 'smoke-staging', 'diff-production', 'deploy-production']) {
      const r = await step(id, version);
      expect(r.code, `${id} ${version}:\n${r.stderr}`).toBe(0);
      if (id === 'smoke-staging') expect(r.stdout).toContain(`web answers: ${version}`);
      if (id === 'deploy-staging') expect(r.stdout).toContain(`schema migrated to ${version}`);
      if (id === 'diff-production' && version === 'v2') {
        expect(r.stdout).toMatch(/^-\s+value: "\*\*\* \(before\)"$/m);
        expect(r.stdout).not.toMatch(/value: .*v[12]/);
        // The migration Job is shown as replaced by the same Job, not as a new object.
        expect(r.stdout).toMatch(/# job\/web-migrate in namespace \S+: would change/);
        expect(r.stdout).not.toMatch(/generateName|controller-uid/);
      }
      console.log(`${version} ${id}: ${r.ms} ms`);
    }
  }
  expect(await versionIn(staging.ns)).toMatchObject({ version: 'v2', ready: 2 });
  expect(await versionIn(production.ns)).toMatchObject({ version: 'v2', ready: 3 });

  // The production step given staging's token: refused before anything is applied.
  const before = await versionIn(production.ns);
  const wrong = await step('deploy-production', 'v3', {
    staging: creds.staging!,
    production: creds.staging!,
  });
  expect(wrong.code, wrong.stderr).toBe(3);
  expect(wrong.stderr).toMatch(/nothing was applied: the server refused/);
  expect(wrong.stderr).toMatch(/forbidden/i);
  expect(wrong.stderr).toContain('deploy/rbac-deploy.yaml grants them');
  expect(await versionIn(production.ns)).toEqual(before);
}, 600_000);
