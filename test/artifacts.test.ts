// Artifacts (issue 21, item 1): files the tests write to $ARTIFACTS arrive under
// DIR/<job>/<pod>/, byte-identical, for every attempt, from an image without shell or tar; links
// and paths out of DIR are refused; without --artifacts nothing is injected; a killed kubestep
// leaves pods that end by themselves.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';
import { JOBS } from '../src/kube/resources.js';
import type { Job } from '../src/kube/types.js';
import {
  accountWithRules,
  jobYaml,
  kubectl,
  manifestFile,
  rbacRules,
  runCli,
  until,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('artifacts');
const ROOT = resolve(import.meta.dirname, '..');
const KIT = process.env.K8S_LOCAL_KIT ?? join(ROOT, 'test/cluster');

beforeAll(async () => {
  // The collector runs kubestep's own image: kubestep:local, built from this checkout's bundle.
  await promisify(execFile)('bash', [join(ROOT, 'scripts/build-local-image.sh'), KIT], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 300_000);

/** A JUnit report of 3 cases, one failed with its file and line. */
const JUNIT =
  '<testsuites><testsuite name="api"><testcase name="test_ok" time="0.5"/><testcase name="test_status" file="tests/test_api.py" line="7" time="0.25"><failure message="assert 500 == 200">E  assert 500 == 200</failure></testcase><testcase name="test_todo"><skipped/></testcase></testsuite></testsuites>';

/** Node code for the test container (kubestep:local: node, no shell, no tar). */
const WRITER = `
const fs = require('fs'), crypto = require('crypto');
const dir = process.env.ARTIFACTS;
fs.mkdirSync(dir + '/reports/nested', { recursive: true });
fs.writeFileSync(dir + '/reports/junit.xml', ${JSON.stringify(JUNIT)});
const blob = crypto.randomBytes(Number(process.env.MIB || 50) * 1024 * 1024);
fs.writeFileSync(dir + '/reports/nested/blob.bin', blob);
fs.symlinkSync('/etc/passwd', dir + '/passwd');
console.log('blob sha256 ' + crypto.createHash('sha256').update(blob).digest('hex'));
process.exit(Number(process.env.EXIT || 0));
`;

function nodeJob(
  name: string,
  opts: { backoffLimit?: number; exit?: number; mib?: number } = {},
): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  backoffLimit: ${opts.backoffLimit ?? 0}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: kubestep:local
          imagePullPolicy: Never
          command: ["/nodejs/bin/node", "-e", ${JSON.stringify(WRITER)}]
          env: [{name: EXIT, value: "${opts.exit ?? 0}"}, {name: MIB, value: "${opts.mib ?? 50}"}]
`;
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

it('every attempt of a failing Job, 50 MiB each through pods/proxy: files and directories byte-identical, the link refused, nothing outside DIR; the JUnit cases in the summary, the annotations and the merged report', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const reportDir = await mkdtemp(join(tmpdir(), 'kubestep-report-'));
  const r = await runCli(
    [
      'run',
      '-f',
      manifestFile(nodeJob('writer', { backoffLimit: 1, exit: 3 })),
      '-n',
      t.ns,
      '--artifacts',
      dir,
      '--artifacts-image',
      'kubestep:local',
      '--timeout',
      '3m',
      '--verbose',
      '--junit-report',
      join(reportDir, 'run.xml'),
    ],
    { env: { GITHUB_ACTIONS: 'true' } },
  );
  expect(r.code, r.stderr).toBe(1);
  const pods = (await readdir(join(dir, 'writer'))).sort();
  // Both attempts went the direct way (the test's credentials may get pods/proxy).
  expect(
    r.stderr.match(/artifacts of pod\/writer-\w+: 50\.0 MiB through pods\/proxy in/g),
  ).toHaveLength(2);
  expect(pods).toHaveLength(2);
  const sums = [...r.stdout.matchAll(/\[pod\/(writer-\w+)\/main\] blob sha256 (\w+)/g)].map((m) => [
    m[1],
    m[2],
  ]);
  expect(sums).toHaveLength(2);
  for (const [pod, sum] of sums) {
    expect(await sha256(join(dir, 'writer', pod!, 'reports/nested/blob.bin'))).toBe(sum);
    expect(await readFile(join(dir, 'writer', pod!, 'reports/junit.xml'), 'utf8')).toBe(JUNIT);
    expect((await readdir(join(dir, 'writer', pod!))).sort()).toEqual(['reports']);
    expect(r.stderr).toContain(
      `artifacts of pod/${pod}: 2 files, 50.0 MiB in ${join(dir, 'writer', pod!)}`,
    );
    expect(r.stderr).toContain(
      `warning: artifacts of pod/${pod}: "passwd": SymbolicLink not copied`,
    );
  }
  expect((await readdir(dir)).sort()).toEqual(['writer']);
  // The collector's lines are not in the CI log.
  expect(r.stdout).not.toContain('KSA1');
  // Two attempts, each with its report: counted together, the failed case named and annotated.
  expect(r.stderr).toContain('tests: 6 (2 failed, 0 errors, 2 skipped; 1.5 s) in 2 JUnit reports');
  expect(r.stderr).toContain('✗ api › test_status: assert 500 == 200');
  expect(
    r.stdout.match(/^::error file=tests\/test_api\.py,line=7,title=api › test_status::/gm),
  ).toHaveLength(2);
  const merged = await readFile(join(reportDir, 'run.xml'), 'utf8');
  expect(merged).toMatch(/<testsuite name="job\/writer" tests="3" failures="3"/);
  expect(merged).toMatch(
    /<testsuite name="job\/writer › api" tests="6" failures="2" errors="0" skipped="2"/,
  );
});

it('without get on pods/proxy (deploy/rbac.yaml alone): said before the Jobs start, and the files come through the log', async () => {
  const kubeconfig = await accountWithRules(t.client, t.ns, 'no-proxy', rbacRules());
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const r = await runCli(
    [
      'run',
      '-f',
      manifestFile(nodeJob('logpath', { mib: 2 })),
      '-n',
      t.ns,
      '--artifacts',
      dir,
      '--artifacts-image',
      'kubestep:local',
      '--timeout',
      '3m',
    ],
    { env: { KUBECONFIG: kubeconfig } },
  );
  expect(r.code, r.stderr).toBe(0);
  const said = r.stderr.indexOf(
    `artifacts: get on pods/proxy is not allowed in namespace ${t.ns}, so they come through the collectors' logs`,
  );
  expect(said).toBeGreaterThan(-1);
  expect(said).toBeLessThan(r.stderr.indexOf('created job/logpath'));
  const sum = /blob sha256 (\w+)/.exec(r.stdout)?.[1];
  const [pod] = await readdir(join(dir, 'logpath'));
  expect(await sha256(join(dir, 'logpath', pod!, 'reports/nested/blob.bin'))).toBe(sum);
  expect(r.stderr).toContain(`artifacts of pod/${pod}: 2 files, 2.0 MiB in`);
});

it('without --artifacts the pod template is the manifest’s: nothing injected', async () => {
  const r = await runCli([
    'run',
    '-f',
    manifestFile(nodeJob('plain', { mib: 1 })),
    '-n',
    t.ns,
    '--run-id',
    'plain',
    '--cleanup',
    'never',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const job = await t.client.get<Job>(JOBS, t.ns, 'plain', AbortSignal.timeout(10_000));
  const spec = job!.spec!.template!.spec! as unknown as Record<string, unknown[] | undefined>;
  expect(
    (spec.containers as { name: string; env?: unknown[] }[]).map((c) => [c.name, c.env]),
  ).toEqual([
    [
      'main',
      [
        { name: 'EXIT', value: '0' },
        { name: 'MIB', value: '1' },
      ],
    ],
  ]);
  expect(spec.volumes).toBeUndefined();
  const down = await runCli(['down', '--run-id', 'plain', '-n', t.ns]);
  expect(down.code, down.stderr).toBe(0);
});

it('kubestep killed (SIGKILL) while the pod waits: the collector ends by itself and the Job completes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const f = manifestFile(nodeJob('orphan', { mib: 1 }));
  // --timeout 10s and --grace 5s: the collector ends 75 s after it starts.
  let killed = false;
  const r = await runCli(
    [
      'run',
      '-f',
      f,
      '-n',
      t.ns,
      '--run-id',
      'orphan',
      '--artifacts',
      dir,
      '--artifacts-image',
      'kubestep:local',
      '--timeout',
      '10s',
      '--grace',
      '5s',
    ],
    {
      onOutput: (text, child) => {
        if (!killed && text.includes('created job/orphan')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    },
  );
  expect(r.signal).toBe('SIGKILL');
  await until(
    async () => {
      const job = await t.client.get<Job>(JOBS, t.ns, 'orphan', AbortSignal.timeout(10_000));
      return (
        job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false
      );
    },
    150_000,
    'job/orphan to complete by itself',
  );
}, 240_000);

it('JUnit among the artifacts: counts and the failed case in the summary, an annotation at its file and line, --fail-on-test-failures', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const junit =
    '<testsuites><testsuite name="api"><testcase name="test_ok" time="0.5"/><testcase name="test_status" file="tests/test_api.py" line="7" time="0.25"><failure message="assert 500 == 200">E  assert 500 == 200</failure></testcase><testcase name="test_todo"><skipped/></testcase></testsuite></testsuites>';
  const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {name: swallowed}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          # The test command swallows its exit code: the Job is Complete.
          command: ["sh", "-c", ${JSON.stringify(`echo '${junit}' > $ARTIFACTS/junit.xml; echo tests ran`)}]
`);
  const r = await runCli(
    [
      'run',
      '-f',
      f,
      '-n',
      t.ns,
      '--artifacts',
      dir,
      '--artifacts-image',
      'kubestep:local',
      '--fail-on-test-failures',
      '--junit-report',
      join(dir, 'run.xml'),
    ],
    { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: join(dir, 'summary.md') } },
  );
  expect(r.code, r.stderr).toBe(1);
  // The merged report: the Job's suite, then the report's suite with its cases.
  const merged = await readFile(join(dir, 'run.xml'), 'utf8');
  expect(merged).toMatch(/<testsuite name="job\/swallowed" tests="2" failures="1"/);
  expect(merged).toMatch(
    /<testsuite name="job\/swallowed › api" tests="3" failures="1" errors="0" skipped="1"/,
  );
  expect(merged).toMatch(
    /<testcase name="test_status" classname="api" time="0.250" file="tests\/test_api.py" line="7">/,
  );
  // The step summary: counts and the failed case.
  const summary = await readFile(join(dir, 'summary.md'), 'utf8');
  expect(summary).toContain(`| \`${t.ns}/swallowed\` | 3 | 1 | 0 | 1 | 0.8 s |`);
  expect(summary).toContain('- ❌ ` swallowed: api › test_status ` at ` tests/test_api.py:7 `');
  expect(r.stdout).toContain(
    '::error file=tests/test_api.py,line=7,title=api › test_status::assert 500 == 200%0AE  assert 500 == 200',
  );
  expect(r.stderr).toContain('tests: 3 (1 failed, 0 errors, 1 skipped; 0.8 s) in 1 JUnit report');
  expect(r.stderr).toContain('✗ api › test_status: assert 500 == 200');
  expect(r.stderr).toContain(
    'Complete, but its JUnit reports 1 failed test case (--fail-on-test-failures)',
  );
});

it('values for the next step: $KUBESTEP_OUTPUT lines, a multi-line value, in the result file and printed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const result = join(dir, 'result.json');
  const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {name: release}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", ${JSON.stringify("echo IMAGE=gcr.io/p/app:7 >> $KUBESTEP_OUTPUT; printf 'NOTES<<EOF\\nline 1\\nline 2\\nEOF\\n' >> $KUBESTEP_OUTPUT")}]
`);
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--artifacts',
    dir,
    '--artifacts-image',
    'kubestep:local',
    '-o',
    'json',
    '--output-file',
    result,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('output IMAGE=gcr.io/p/app:7');
  expect(r.stderr).toContain('output NOTES=line 1… (13 characters)');
  const json = JSON.parse(await readFile(result, 'utf8')) as { outputs: Record<string, string> };
  expect(json.outputs).toEqual({ IMAGE: 'gcr.io/p/app:7', NOTES: 'line 1\nline 2' });
});

it('--outputs without --artifacts: the values arrive, nothing else is collected, ARTIFACTS is not set', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-outputs-'));
  const result = join(dir, 'result.json');
  const script =
    'echo "artifacts=$${ARTIFACTS:-unset}"; echo VERSION=1.2.3 >> $KUBESTEP_OUTPUT; head -c 100000 /dev/zero > /kubestep/artifacts/big.bin';
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('values', script)),
    '-n',
    t.ns,
    '--outputs',
    '--artifacts-image',
    'kubestep:local',
    '-o',
    'json',
    '--output-file',
    result,
    '--verbose',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('artifacts=unset');
  expect(r.stderr).toContain('output VERSION=1.2.3');
  // Only the outputs file travelled, through a scratch directory that is gone.
  const scratch = /outputs of pod\/values-\w+: 1 file, (\d+) B in (\S+)/.exec(r.stderr);
  expect(scratch?.[1]).toBe('14');
  await expect(readdir(scratch![2]!)).rejects.toThrow(/ENOENT/);
  const json = JSON.parse(await readFile(result, 'utf8')) as { outputs: Record<string, string> };
  expect(json.outputs).toEqual({ VERSION: '1.2.3' });
});

it('kubestep wait --artifacts: a Job made by kubectl with the collector in place gives its files; one without it is named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  // The collector as README (Artifacts, with kubestep wait) tells to add it.
  await kubectl(
    ['apply', '-n', t.ns, '-f', '-'],
    `apiVersion: batch/v1
kind: Job
metadata: {name: handmade}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: kubestep-artifacts, emptyDir: {}}]
      containers:
        - name: tests
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "sleep 3; echo ok > $ARTIFACTS/report.txt"]
          env: [{name: ARTIFACTS, value: /kubestep/artifacts}]
          volumeMounts: [{name: kubestep-artifacts, mountPath: /kubestep/artifacts}]
        - name: kubestep-artifacts
          image: kubestep:local
          imagePullPolicy: Never
          args: [collect-artifacts, --dir, /kubestep/artifacts, --deadline, "600", --port, "47301"]
          env: [{name: KUBESTEP_COLLECTOR_TOKEN, value: any-random-string}]
          volumeMounts: [{name: kubestep-artifacts, mountPath: /kubestep/artifacts, readOnly: true}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: bare}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: tests, image: busybox:local, imagePullPolicy: Never, command: ["sh", "-c", "sleep 3"]}
`,
  );
  const r = await runCli([
    'wait',
    'job/handmade',
    'job/bare',
    '-n',
    t.ns,
    '--artifacts',
    dir,
    '--timeout',
    '2m',
    '--verbose',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/artifacts of pod\/handmade-\w+: [\d.]+ KiB through pods\/proxy/);
  const [pod] = await readdir(join(dir, 'handmade'));
  expect(await readFile(join(dir, 'handmade', pod!, 'report.txt'), 'utf8')).toBe('ok\n');
  expect(r.stderr).toContain(
    'warning: job/bare has no kubestep-artifacts container, so no artifacts can come from it',
  );
  expect(r.stderr).not.toContain('job/handmade has no');
});

it('at --timeout: what the collector holds so far is fetched (a hung test’s progress file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const script = 'echo "step 1 done" > $ARTIFACTS/progress.txt; echo started; sleep 600';
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('hung', script)),
    '-n',
    t.ns,
    '--artifacts',
    dir,
    '--artifacts-image',
    'kubestep:local',
    '--timeout',
    '15s',
  ]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('FAILED: --timeout of 15 s passed while job/hung still ran');
  const [pod] = await readdir(join(dir, 'hung'));
  expect(await readFile(join(dir, 'hung', pod!, 'progress.txt'), 'utf8')).toBe('step 1 done\n');
  expect(r.stderr).toContain(`artifacts of pod/${pod}: 1 file, 12 B in`);
}, 120_000);

it('--junit /DIR/GLOB without --artifacts: reports where the tests leave them (not *.xml) are read, nothing else leaves the pod', async () => {
  const junit =
    '<testsuite name="unit"><testcase name="adds"/><testcase name="divides"><failure message="division by zero"/></testcase></testsuite>';
  const script = `mkdir -p /work/reports && echo '${junit}' > /work/reports/TEST-unit.txt && echo other > /work/reports/notes.txt`;
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('surefire', script)),
    '-n',
    t.ns,
    '--junit',
    '/work/reports/TEST-*.txt',
    '--junit',
    '/elsewhere/*.xml',
    '--fail-on-test-failures',
    '--artifacts-image',
    'kubestep:local',
    '--verbose',
  ]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain('tests: 2 (1 failed, 0 errors, 0 skipped; 0.0 s) in 1 JUnit report');
  expect(r.stderr).toContain('✗ unit › divides: division by zero');
  expect(r.stderr).toContain('warning: --junit /elsewhere/*.xml named no file in any pod');
  // Only the report directory's matching file counted; notes.txt travelled but is no report.
  expect(r.stderr).toMatch(/reports of pod\/surefire-\w+: 2 files/);
});

it('the collector runs as non-root (restricted): a pod with runAsNonRoot starts; a 0600 file of a root test is named, the rest arrives', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-artifacts-'));
  const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {name: nonroot}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true}
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          securityContext: {runAsUser: 1000}
          command: ["sh", "-c", "echo mine > $ARTIFACTS/mine.txt; (umask 077; echo secret > $ARTIFACTS/private.txt)"]
---
apiVersion: batch/v1
kind: Job
metadata: {name: asroot}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo open > $ARTIFACTS/open.txt; (umask 077; echo secret > $ARTIFACTS/private.txt)"]
`);
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--artifacts',
    dir,
    '--artifacts-image',
    'kubestep:local',
    '--timeout',
    '2m',
  ]);
  expect(r.code, r.stderr).toBe(0);
  // runAsNonRoot at the pod, a user only on the test container: the collector takes that user
  // and reads even the test's 0600 file.
  const [mine] = await readdir(join(dir, 'nonroot'));
  expect((await readdir(join(dir, 'nonroot', mine!))).sort()).toEqual(['mine.txt', 'private.txt']);
  // A root test's 0600 file: not readable by the collector (65532), named; the rest arrives.
  const [root] = await readdir(join(dir, 'asroot'));
  expect(await readdir(join(dir, 'asroot', root!))).toEqual(['open.txt']);
  expect(r.stderr).toContain(
    `warning: artifacts of pod/${root}: not readable by the collector (uid 65532), left out: "private.txt"`,
  );
});
