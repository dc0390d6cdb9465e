// The manifests under examples/ run as README.md says, with busybox:local as TEST_IMAGE.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { names, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('examples');

const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));

it.each([
  ['hello-job.yaml', 0, /^running tests of run ex-1\n3 passed, 0 failed\n$/],
  ['suite.yaml', 0, /\[pod\/integration-ex-1-\w+\/wait-for-fixtures\] fixtures ready/],
  ['failing-job.yaml', 1, /(\[pod\/failing-ex-1-\w+\/main\] FAIL: expected 200, got 500\n){2}/],
])('examples/%s exits %d', async (file, code, stdout) => {
  const r = await runCli([
    'run',
    '-f',
    example(file),
    '-n',
    t.ns,
    '--run-id',
    'ex-1',
    '--set',
    'TEST_IMAGE=busybox:local',
  ]);
  expect(r.stdout).toMatch(stdout);
  expect(r.code).toBe(code);
  expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
});

it('examples/db-tests.yaml with --deps examples/postgres.yaml exits 0', async () => {
  const r = await runCli([
    'run',
    '-f',
    example('db-tests.yaml'),
    '--deps',
    example('postgres.yaml'),
    '-n',
    t.ns,
    '--run-id',
    'ex-2',
    '--set',
    'PG_IMAGE=kubestep-postgres:local',
    '--grace',
    '5s',
  ]);
  expect(r.stdout).toBe('read back 42\n');
  expect(r.code, r.stderr).toBe(0);
  expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
});

it('examples/app: the backend-tests step of its cloudbuild.yaml passes against Postgres', async () => {
  // The step as Cloud Build runs it, in the app's workspace, with the local images and this
  // namespace; the cluster from KUBECONFIG instead of GKE; no Google credentials, so
  // --cloud-logging only warns.
  const build = parse(readFileSync(example('app/cloudbuild.yaml'), 'utf8')) as {
    steps: { id: string; args: string[]; env: string[] }[];
  };
  const step = build.steps.find((s) => s.id === 'backend-tests')!;
  const args = step.args.map((a) => (a === '${_NAMESPACE}' ? t.ns : a));
  const env = Object.fromEntries(
    step.env.filter((e) => !e.startsWith('CLOUDSDK_')).map((e) => e.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;
  const r = await runCli(args, {
    cwd: example('app'),
    env: {
      ...env,
      BUILD_ID: 'app-build-1',
      TEST_IMAGE: 'kubestep-db-tests:local',
      PG_IMAGE: 'kubestep-postgres:local',
      METADATA_SERVER_DETECTION: 'none',
      GCE_METADATA_HOST: '127.0.0.1:1',
    },
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('ok   order-totals');
  expect(r.stdout).toContain('3 passed, 0 failed');
  expect(r.stderr).toContain('--cloud-logging is off');
  expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
});
