// Test pods that can never run end the step fast with exit 3 and the reason; failing pods are
// explained in one sentence (exit 1). Each case is a real pod in the local cluster.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { join, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { jobYaml, manifestFile, names, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('failfast');

/**
 * Runs kubestep with --output json; returns the process result, the parsed JSON, and `failMs`:
 * when the failure was reported (the cleanup after it is not part of the time to fail).
 */
async function runJson(file: string, ...flags: string[]) {
  const out = join(dirname(file), 'result.json');
  const started = Date.now();
  let failMs = Number.NaN;
  let stderr = '';
  const args = ['run', '-f', file, '-n', t.ns, '-o', 'json', '--output-file', out, ...flags];
  const r = await runCli(args, {
    onOutput: (text) => {
      stderr += text;
      if (Number.isNaN(failMs) && /kubestep: job\/\S+ (cannot start|failed):/.test(stderr)) {
        failMs = Date.now() - started;
      }
    },
  });
  const json = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
  // The figures for README and the issue notes: time to fail, and the whole step.
  console.info(`${json.jobs[0]?.name}: failure reported after ${failMs} ms, exit after ${r.ms} ms`);
  return { r, json, job: json.jobs[0]!, failMs };
}

/** A Job of one container with `container` spliced in as its YAML (indented 10 spaces). */
function podJob(name: string, container: string, spec = ''): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  backoffLimit: 0
${spec}  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
${container}`;
}

/**
 * Every Job and pod is gone or being deleted. A pod that never started takes 40-70 s to go on
 * k8s-local's kubelet (also with a 1 s grace period), so the stuck cases use a short --grace and
 * check that deletion was requested.
 */
async function deletionRequested() {
  const left = await objectsIn(t.client, t.ns);
  const live = [...left.jobs, ...left.pods].filter((o) => !o.metadata?.deletionTimestamp);
  expect(names(live)).toEqual([]);
}

describe('stuck test pods (exit 3)', () => {
  // A registry stand-in on loopback that answers every request with 500: no pull leaves the host.
  let registry: Server;
  let port = 0;
  const requests: string[] = [];
  beforeAll(async () => {
    registry = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNKNOWN","message":"stand-in registry fails every pull"}]}');
    });
    registry.listen(0, '127.0.0.1');
    await once(registry, 'listening');
    port = (registry.address() as { port: number }).port;
  });
  afterAll(() => registry.close());

  it('fails at once for an image that is not on the node with imagePullPolicy Never', async () => {
    const f = manifestFile(
      podJob('never', '          image: not-here:local\n          imagePullPolicy: Never\n'),
    );
    const { r, json, job, failMs } = await runJson(f, '--grace', '3s');
    expect(r.code).toBe(3);
    expect(job.outcome).toBe('Stuck');
    expect(job.reason).toBe('ErrImageNeverPull');
    expect(job.explanation).toMatch(
      /^pod\/never-\w+ cannot start: container main: ErrImageNeverPull/,
    );
    expect(r.stderr).toMatch(/job\/never cannot start: .*ErrImageNeverPull/);
    expect(r.stderr).toContain('what to do: the image is not on the node');
    expect(r.stderr).toMatch(/events of pod\/never-\w+:\n.*Warning {2}ErrImageNeverPull/);
    expect(r.stderr).toMatch(/job\/never +Stuck +\S+ s +1 +- +pod\/never-/);
    expect(r.stderr).toContain('ERROR: job/never (ErrImageNeverPull) cannot start');
    expect(json.outcome).toBe('infra-error');
    expect(json.exitCode).toBe(3);
    // Grace 0: the pod's first status decides.
    expect(failMs).toBeLessThan(15_000);
    await deletionRequested();
  });

  it('fails after --image-pull-grace for a registry that answers every pull with an error', async () => {
    requests.length = 0;
    const f = manifestFile(
      podJob(
        'pull',
        `          image: 127.0.0.1:${port}/missing:1\n          imagePullPolicy: Always\n`,
      ),
    );
    const { r, job, failMs } = await runJson(f, '--image-pull-grace', '6s', '--grace', '3s');
    expect(r.code).toBe(3);
    expect(job.outcome).toBe('Stuck');
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(job.reason);
    expect(job.explanation).toMatch(/127\.0\.0\.1:\d+\/missing:1/);
    expect(job.explanation).toMatch(/\(for \d+\.\d s\)$/);
    // The node asked our stand-in, and nothing else.
    expect(requests.some((q) => q.includes('/v2/missing/manifests/1'))).toBe(true);
    // Not before the grace, and within a few seconds after it.
    expect(failMs).toBeGreaterThanOrEqual(6_000);
    expect(failMs).toBeLessThan(6_000 + 10_000);
    await deletionRequested();
  });

  it('fails after --unschedulable-grace for a pod requesting 1000 CPUs', async () => {
    const f = manifestFile(
      podJob(
        'huge',
        '          image: busybox:local\n          imagePullPolicy: Never\n          command: ["true"]\n          resources: { requests: { cpu: "1000" } }\n',
      ),
    );
    const { r, job, failMs } = await runJson(f, '--unschedulable-grace', '4s', '--grace', '3s');
    expect(r.code).toBe(3);
    expect(job.reason).toBe('Unschedulable');
    expect(job.explanation).toMatch(/cannot be scheduled: .*Insufficient cpu/);
    expect(r.stderr).toContain('what to do: no node can take the pod');
    expect(r.stderr).toMatch(/Warning {2}FailedScheduling/);
    expect(failMs).toBeGreaterThanOrEqual(4_000);
    expect(failMs).toBeLessThan(4_000 + 10_000);
    await deletionRequested();
  });

  it('fails after --config-error-grace for a missing Secret in envFrom', async () => {
    const f = manifestFile(
      podJob(
        'nosecret',
        '          image: busybox:local\n          imagePullPolicy: Never\n          command: ["true"]\n          envFrom: [{ secretRef: { name: no-such-secret } }]\n',
      ),
    );
    const { r, job, failMs } = await runJson(f, '--config-error-grace', '3s', '--grace', '3s');
    expect(r.code).toBe(3);
    expect(job.reason).toBe('CreateContainerConfigError');
    // The 1.20 kubelet says either, depending on its secret cache's timing.
    const notFound = job.explanation.includes('secret "no-such-secret" not found');
    if (!notFound) expect(job.explanation).toContain('failed to sync secret cache');
    expect(r.stderr).toContain(
      notFound
        ? "what to do: create the Secret no-such-secret in the pod's namespace"
        : "what to do: the kubelet could not read a Secret the pod refers to (env, envFrom or a volume): create it in the pod's namespace",
    );
    expect(failMs).toBeGreaterThanOrEqual(3_000);
    expect(failMs).toBeLessThan(3_000 + 10_000);
    await deletionRequested();
  });
});

describe('failed test Jobs are explained (exit 1)', () => {
  it('names the memory limit of an OOMKilled container', async () => {
    const f = manifestFile(
      podJob(
        'oom',
        '          image: node:local\n          imagePullPolicy: Never\n          command: ["node", "-e", "const a = []; for (;;) a.push(Buffer.alloc(1e6, 1))"]\n          resources: { limits: { memory: 40Mi } }\n',
      ),
    );
    const { r, job } = await runJson(f);
    expect(r.code).toBe(1);
    expect(job.outcome).toBe('Failed');
    expect(job.explanation).toMatch(
      /container main of pod\/oom-\w+ was OOMKilled: it used more memory than its limit of 40Mi \(exit code 137\)/,
    );
    expect(job.exitCodes).toEqual([137]);
    expect(r.stderr).toMatch(
      /job\/oom failed: failed 1 attempt \(backoffLimit 0\); last: .*OOMKilled/,
    );
  });

  it('names activeDeadlineSeconds for a Job that ran too long', async () => {
    const f = manifestFile(
      podJob(
        'slow',
        '          image: busybox:local\n          imagePullPolicy: Never\n          command: ["sleep", "600"]\n',
        '  activeDeadlineSeconds: 5\n',
      ),
    );
    const { r, job, failMs } = await runJson(f);
    expect(r.code).toBe(1);
    expect(job.reason).toBe('DeadlineExceeded');
    expect(job.explanation).toBe(
      'ran longer than its activeDeadlineSeconds (5 s), so its pods were stopped',
    );
    expect(r.stderr).toMatch(/events of job\/slow:\n(.*\n)*.*Warning {2}DeadlineExceeded/);
    // Not before the 5 s deadline. When after it depends on the Job controller (Kubernetes 1.20
    // took 6-29 s in CI), not on kubestep: a figure, not an assertion.
    expect(failMs).toBeGreaterThanOrEqual(5_000);
    console.log(`activeDeadlineSeconds 5: failure reported after ${failMs} ms`);
  });

  it('counts the attempts of backoffLimit 1 and names the exit code', async () => {
    const f = manifestFile(jobYaml('seven', 'exit 7', { backoffLimit: 1 }));
    const { r, job } = await runJson(f);
    expect(r.code).toBe(1);
    expect(job.reason).toBe('BackoffLimitExceeded');
    expect(job.attempts).toBe(2);
    expect(job.exitCodes).toEqual([7]);
    expect(job.explanation).toMatch(
      /^failed 2 attempts \(backoffLimit 1\); last: container main of pod\/seven-\w+ exited with code 7$/,
    );
    expect(r.stderr).toMatch(
      /JOB +RESULT +DURATION +ATTEMPTS +LINES +REASON\n.*job\/seven +Failed +\S+ s +2 +\d+ +failed 2 attempts/,
    );
    expect(r.stderr).toMatch(/Warning {2}BackoffLimitExceeded/);
  });
});
