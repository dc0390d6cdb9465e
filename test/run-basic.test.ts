// kubestep run against the real cluster: pass, fail, fast exit, many lines, parallel Jobs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/report/result.js';
import { jobYaml, manifestFile, names, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('basic');

describe('kubestep run', () => {
  it('exits 0 for a Job that completes, mirrors its log and deletes it', async () => {
    const f = manifestFile(jobYaml('pass-${RUN_ID}', 'echo "hello ${GREETING}"; echo second line'));
    const r = await runCli([
      'run',
      '-f',
      f,
      '-n',
      t.ns,
      '--set',
      'GREETING=world',
      '--run-id',
      'p1',
    ]);
    expect(r.stderr).toContain('PASSED');
    expect(r.code).toBe(0);
    // One Job, one container, backoffLimit 0: one source, so no prefix.
    expect(r.stdout).toBe('hello world\nsecond line\n');
    expect(r.stderr).toMatch(/job\/pass-p1 +Complete +\S+ s +1 +2 +succeeded/);
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs)).toEqual([]);
    expect(names(left.pods)).toEqual([]);
  });

  it('exits 1 for a Job that fails, with the exit code and reason in the summary', async () => {
    const f = manifestFile(jobYaml('fail', 'echo about to fail; exit 7'));
    const r = await runCli(['run', '-f', f, '-n', t.ns]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('about to fail\n');
    expect(r.stderr).toMatch(
      /job\/fail +Failed +\S+ s +1 +1 +failed 1 attempt \(backoffLimit 0\); last: container main of pod\/fail-\w+ exited with code 7/,
    );
    expect(r.stderr).toMatch(/pod\/fail-\w+ +Failed +main: exit 7/);
    expect(r.stderr).toContain('FAILED: job/fail failed');
  });

  it('shows the log of a container that exits within 100 ms', async () => {
    // No sleep, no pipes: busybox echo and exit take a few ms.
    const f = manifestFile(
      jobYaml('quick', 'echo quick-1; echo quick-2; echo quick-err >&2; exit 0'),
    );
    const r = await runCli(['run', '-f', f, '-n', t.ns]);
    expect(r.code).toBe(0);
    // stdout and stderr are two pipes that containerd reads independently: their relative order
    // in the node's log is not defined, the order within each is.
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    expect([...lines].sort()).toEqual(['quick-1', 'quick-2', 'quick-err']);
    expect(lines.indexOf('quick-1')).toBeLessThan(lines.indexOf('quick-2'));
  });

  it('mirrors 20,000 lines: all present, in order, none repeated', async () => {
    // The pause matters: containerd 1.6 (Debian's, in k8s-local) drops what is still unread in a
    // container's stdout pipe when it exits right after writing ~100 KB; without the pause the
    // node's own log file (and `kubectl logs`) holds only ~8,400 of the lines.
    const f = manifestFile(jobYaml('many', 'seq 1 20000; sleep 1'));
    const r = await runCli(['run', '-f', f, '-n', t.ns]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(20_000);
    const wrong = lines.findIndex((l, i) => l !== String(i + 1));
    expect(wrong).toBe(-1);
  });

  it('runs two Jobs in parallel; the run fails when one fails; lines are prefixed', async () => {
    const f = manifestFile(
      [
        jobYaml('par-ok', 'sleep 3; echo ok-done'),
        jobYaml('par-bad', 'sleep 3; echo bad-done; exit 2'),
      ].join('---\n'),
    );
    const out = join(dirname(f), 'par.json');
    const r = await runCli(['run', '-f', f, '-n', t.ns, '-o', 'json', '--output-file', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\[pod\/par-ok-\w+\/main\] ok-done$/m);
    expect(r.stdout).toMatch(/^\[pod\/par-bad-\w+\/main\] bad-done$/m);
    expect(r.stderr).toMatch(/job\/par-ok +Complete/);
    expect(r.stderr).toMatch(/job\/par-bad +Failed/);
    expect(r.stderr).toContain('FAILED: job/par-bad failed');
    // In parallel: each Job ran (start to end, as the Job controller stamps them) while the other
    // did. One after the other, the second would start after the first had ended, 3 s later.
    const jobs = (JSON.parse(readFileSync(out, 'utf8')) as RunResult).jobs;
    const [a, b] = jobs.map((j) => ({
      start: Date.parse(j.startedAt!),
      end: Date.parse(j.finishedAt!),
    }));
    expect(a!.start).toBeLessThan(b!.end);
    expect(b!.start).toBeLessThan(a!.end);
  });

  it('follows init containers first, then the main container', async () => {
    const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {name: init}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      initContainers:
        - {name: setup, image: busybox:local, imagePullPolicy: Never, command: ["sh", "-c", "echo from-init"]}
      containers:
        - {name: main, image: busybox:local, imagePullPolicy: Never, command: ["sh", "-c", "echo from-main"]}
`);
    const out = join(dirname(f), 'result.json');
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--output', 'json', '--output-file', out]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[pod\/init-\w+\/setup\] from-init$/);
    expect(lines[1]).toMatch(/^\[pod\/init-\w+\/main\] from-main$/);
    const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(result.jobs[0]).toMatchObject({ name: 'init', outcome: 'Complete', exitCodes: [0] });
    expect(result.jobs[0]!.pods[0]!.containers).toMatchObject([
      { name: 'setup', init: true, state: 'exit 0', exitCode: 0 },
      { name: 'main', init: false, state: 'exit 0', exitCode: 0 },
    ]);
  });
});
