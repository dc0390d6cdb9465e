// Parallel steps of one build (matrix legs, parallel Cloud Build steps): the same BUILD_ID, the
// same manifests. Each run gets its own run id; a run given the same --run-id as a live one is
// refused before it touches anything.
import { expect, it } from 'vitest';
import { CONFIGMAPS, JOBS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { manifestFile, runCli, startCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('parallel');

const JOB = `apiVersion: batch/v1
kind: Job
metadata: {name: "suite-\${RUN_ID}"}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo leg \${LEG} of run \${RUN_ID}; sleep \${SLEEP}; exit \${CODE}"]
`;
const DEPS = `apiVersion: v1
kind: ConfigMap
metadata: {name: "settings-\${RUN_ID}"}
data: {leg: "\${LEG}"}
`;

it('three legs with the same BUILD_ID and manifests: each its own run, logs and outcome; none deletes another', async () => {
  const job = manifestFile(JOB);
  const deps = manifestFile(DEPS, 'deps.yaml');
  const leg = (name: string, code: number) =>
    runCli(
      [
        'run',
        '-f',
        job,
        '--deps',
        deps,
        '-n',
        t.ns,
        '--set',
        `LEG=${name}`,
        '--set',
        `CODE=${code}`,
        '--set',
        'SLEEP=4',
      ],
      { env: { BUILD_ID: 'matrix-build-1' } },
    );
  const results = await Promise.all([leg('a', 0), leg('b', 1), leg('c', 0)]);
  expect(
    results.map((r) => r.code),
    results.map((r) => r.stderr).join('\n---\n'),
  ).toEqual([0, 1, 0]);
  const ids = results.map(
    (r) => /^kubestep: run (\S+) \(id from BUILD_ID and a random suffix\)/m.exec(r.stderr)?.[1],
  );
  expect(ids.every((id) => id && /^matrix-build-1-[0-9a-f]{6}$/.test(id))).toBe(true);
  expect(new Set(ids).size).toBe(3);
  results.forEach((r, i) => {
    const name = 'abc'[i]!;
    // Its own log line, and nobody else's.
    expect(r.stdout.trim()).toBe(`leg ${name} of run ${ids[i]!}`);
    // Nothing of another leg swept or replaced.
    expect(r.stderr).not.toMatch(/sweep: deleted|replacing/);
  });
  const left = await Promise.all([
    t.client.list<KubeObject>(JOBS, t.ns, {}, AbortSignal.timeout(10_000)),
    t.client.list<KubeObject>(
      CONFIGMAPS,
      t.ns,
      { labelSelector: 'app.kubernetes.io/managed-by=kubestep' },
      AbortSignal.timeout(10_000),
    ),
  ]);
  expect(left.flatMap((l) => l.items).filter((o) => !o.metadata?.deletionTimestamp)).toEqual([]);
});

it('a second run given the same --run-id while the first is alive touches nothing and exits 3', async () => {
  const job = manifestFile(JOB);
  const deps = manifestFile(DEPS, 'deps.yaml');
  const args = (leg: string) => [
    'run',
    '-f',
    job,
    '--deps',
    deps,
    '-n',
    t.ns,
    '--run-id',
    'same-id',
    '--set',
    `LEG=${leg}`,
    '--set',
    'CODE=0',
    '--set',
    'SLEEP=8',
  ];
  const first = await startCli(args('first'), 'created job/suite-same-id');
  const second = await runCli(args('second'));
  expect(second.code, second.stderr).toBe(3);
  expect(second.stderr).toMatch(
    new RegExp(
      `run same-id in namespace ${t.ns} is held by another kubestep that is alive \\(\\S+/[0-9a-f]{8}, heartbeat until \\S+\\): nothing of it was touched`,
    ),
  );
  expect(second.stderr).not.toMatch(/replacing|deleting (job|configmap)/);
  expect(second.stdout).toBe('');
  const end = await first.result;
  expect(end.code, end.stderr).toBe(0);
  expect(end.stdout.trim()).toBe('leg first of run same-id');
  expect(end.stderr).not.toMatch(/deleted by someone else|warning/);
});
