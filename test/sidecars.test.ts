// Sidecars (issue 20, item 3): regular containers that never end on their own. The pod's result
// is its main containers'; kubestep stops the sidecars and cleans up. (Native sidecars need 1.28+:
// on this 1.20 cluster the field is dropped, see real-world-pods.test.ts; their handling is
// unit-tested in src/pods/sidecars.test.ts and src/jobs/summary.test.ts.)
import { expect, it } from 'vitest';
import { manifestFile, objectsOf, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('sidecars');

/** A Job whose `tests` container runs `script` beside a sidecar container `sidecar` that never ends. */
/**
 * A sidecar that ignores SIGTERM is stopped with a 5 s grace; the 1.20 kubelet then takes another
 * 10 s or more to remove the pod, under the CI's parallel load sometimes more than the default
 * --grace of 30 s (README, Known limits). These tests are about sidecars, not that kubelet.
 */
const SLOW_DELETION = ['--grace', '60s'];

function withSidecar(
  name: string,
  script: string,
  sidecar: string,
  opts: { spec?: string; annotations?: string } = {},
): string {
  return `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${opts.spec ?? '  backoffLimit: 0\n'}  template:
    metadata: {annotations: {${opts.annotations ?? ''}}}
    spec:
      restartPolicy: Never
      containers:
        - name: tests
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", ${JSON.stringify(script)}]
        - name: ${sidecar}
          image: busybox:local
          imagePullPolicy: Never
          # Like a log shipper: PID 1, ignores SIGTERM, never ends.
          command: ["sh", "-c", "echo ${sidecar} up; exec tail -f /dev/null"]
`;
}

it('a never-ending sidecar named with --sidecar: the Job passes when its main container does; nothing left', async () => {
  const f = manifestFile(withSidecar('shipped', 'echo tests ok', 'logshipper'));
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--run-id',
    'sc-pass',
    '--sidecar',
    'logshipper',
    '--timeout',
    '2m',
    ...SLOW_DELETION,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('tests ok');
  expect(r.stderr).toMatch(
    /pod\/shipped-\w+: its main containers succeeded while sidecar logshipper still ran: the pod's result is theirs/,
  );
  expect(r.stderr).toMatch(
    /job\/shipped +Complete .* succeeded; decided by the main containers \(sidecar logshipper still ran\)/,
  );
  expect(r.stderr).not.toContain('warning');
  expect(await objectsOf(t.client, t.ns, 'sc-pass')).toEqual([]);
});

it('istio-proxy is a sidecar without a flag; a failing main container with a retry: exit 1, both attempts, the exit code named', async () => {
  const f = manifestFile(
    withSidecar('meshed', 'echo FAIL: expected 1, got 2; exit 3', 'istio-proxy', {
      spec: '  backoffLimit: 1\n',
    }),
  );
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--run-id',
    'sc-fail',
    '--timeout',
    '2m',
    ...SLOW_DELETION,
  ]);
  expect(r.code, r.stderr).toBe(1);
  // The first pod is ended so that the Job controller retries; the second failure decides.
  expect(r.stderr).toMatch(/deleting pod\/meshed-\w+ to stop its sidecars; the Job goes on/);
  expect(r.stderr).toContain('job/meshed Failed (BackoffLimitExceeded), by its main containers');
  expect(r.stderr).toMatch(
    /failed 2 attempts \(backoffLimit 1\); last: container tests of pod\/meshed-\w+ exited with code 3; decided by the main containers \(sidecar istio-proxy still ran\)/,
  );
  expect(r.stdout.match(/FAIL: expected 1, got 2/g)).toHaveLength(2);
  expect(r.stderr).not.toMatch(/someone else|warning/);
  expect(await objectsOf(t.client, t.ns, 'sc-fail')).toEqual([]);
});

it('completions: 2 with the sidecar named in the pod template annotation: each pod counts', async () => {
  const f = manifestFile(
    withSidecar('twice', 'echo part done', 'shipper', {
      spec: '  completions: 2\n  backoffLimit: 0\n',
      annotations: 'kubestep.dev/sidecars: shipper',
    }),
  );
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--run-id',
    'sc-two',
    '--timeout',
    '2m',
    ...SLOW_DELETION,
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.match(/part done/g)).toHaveLength(2);
  expect(r.stderr).toMatch(
    /2 of 2 pods succeeded; decided by the main containers \(sidecar shipper still ran\)/,
  );
  expect(await objectsOf(t.client, t.ns, 'sc-two')).toEqual([]);
});

it('a sidecar that never runs (runAsNonRoot on a root image) is a stuck pod, not a pass: exit 3', async () => {
  const f = manifestFile(
    withSidecar('noproxy', 'echo ran without its proxy', 'cloud-sql-proxy').replace(
      '          command: ["sh", "-c", "echo cloud-sql-proxy up; exec tail -f /dev/null"]\n',
      '          command: ["sh", "-c", "echo cloud-sql-proxy up; exec tail -f /dev/null"]\n          securityContext: {runAsNonRoot: true}\n',
    ),
  );
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--run-id',
    'sc-stuck',
    '--config-error-grace',
    '5s',
  ]);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(
    /job\/noproxy cannot start: pod\/noproxy-\w+ cannot start: container cloud-sql-proxy: CreateContainerConfigError: container has runAsNonRoot/,
  );
  expect(r.stderr).not.toContain('decided by the main containers');
  expect(await objectsOf(t.client, t.ns, 'sc-stuck')).toEqual([]);
});
