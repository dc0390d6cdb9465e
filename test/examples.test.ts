// The manifests under examples/ run as README.md says, with busybox:local as TEST_IMAGE.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { names, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('examples');

beforeAll(async () => {
  // The app's pipeline collects artifacts: the collector runs kubestep's own image.
  const root = fileURLToPath(new URL('..', import.meta.url));
  const kit = process.env.K8S_LOCAL_KIT ?? join(root, 'test/cluster');
  await promisify(execFile)('bash', [join(root, 'scripts/build-local-image.sh'), kit], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 300_000);

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

it('examples/pipeline: the backend-tests step of its cloudbuild.yaml passes against Postgres', async () => {
  // The step as Cloud Build runs it, in the app's workspace, with the local images and this
  // namespace; the cluster from KUBECONFIG instead of GKE; no Google credentials, so
  // --cloud-logging only warns.
  const build = parse(readFileSync(example('pipeline/cloudbuild.yaml'), 'utf8')) as {
    steps: { id: string; args: string[]; env: string[] }[];
  };
  const step = build.steps.find((s) => s.id === 'backend-tests')!;
  // The local images; the reports into a directory of this test (the build's is its workspace).
  const reports = await mkdtemp(join(tmpdir(), 'kubestep-reports-'));
  const local: Record<string, string> = { '${_NAMESPACE}': t.ns, '${_KUBESTEP}': 'kubestep:local' };
  const args = step.args.map((a) => local[a] ?? a).map((a) => a.replace(/^test-reports/, reports));
  const env = Object.fromEntries(
    step.env.filter((e) => !e.startsWith('CLOUDSDK_')).map((e) => e.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;
  const r = await runCli(args, {
    cwd: example('pipeline'),
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
  // The suite's JUnit report came out, was read, and is in the run's report and result.
  expect(r.stderr).toContain('tests: 3 (0 failed, 0 errors, 0 skipped;');
  const merged = readFileSync(join(reports, 'junit.xml'), 'utf8');
  expect(merged).toMatch(
    /<testsuite name="job\/backend-tests-[\w-]+ › db-tests" tests="3" failures="0"/,
  );
  const result = JSON.parse(readFileSync(join(reports, 'result.json'), 'utf8')) as {
    exitCode: number;
    jobs: { tests: { tests: number } | null }[];
  };
  expect(result.exitCode).toBe(0);
  expect(result.jobs[0]!.tests!.tests).toBe(3);
  // What the pipeline's `passed` step checks.
  expect(readFileSync(join(reports, 'result.json'), 'utf8')).toContain('"exitCode": 0,');
  expect(r.stderr).toContain('--cloud-logging is off');
  expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
});
