// `kubestep wait` on Jobs that kubectl created, as an earlier CI step would.
import { describe, expect, it } from 'vitest';
import { JOBS } from '../src/kube/resources.js';
import type { Job } from '../src/kube/types.js';
import { jobYaml, kubectl, runCli, until, useTestNamespace } from './harness.js';

const t = useTestNamespace('wait');

const sig = () => AbortSignal.timeout(10_000);
const getJob = (name: string) => t.client.get<Job>(JOBS, t.ns, name, sig());
const apply = (yaml: string) => kubectl(['apply', '-n', t.ns, '-f', '-'], yaml);

const INIT = `      initContainers:
        - name: setup
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo setup done"]
`;
const lines = (n: number, tag: string) => `for i in $(seq 1 ${n}); do echo ${tag} $i; done`;

describe('kubestep wait', () => {
  it('follows a passing Job made by kubectl: every line, exit 0, the Job left in place', async () => {
    await apply(jobYaml('pass', lines(200, 'pass-line'), { extra: INIT }));
    const r = await runCli(['wait', 'job/pass', '-n', t.ns]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n').filter((l) => l.includes('pass-line'));
    expect(out).toEqual(
      Array.from({ length: 200 }, (_, i) => `[pod/${podOf(r.stdout)}/main] pass-line ${i + 1}`),
    );
    expect(r.stdout).toContain('/setup] setup done');
    expect(r.stderr).toContain('PASSED: the Job is Complete');
    expect(await getJob('pass')).toBeDefined();
  });

  it('follows a failing Job with retries: the lines of both attempts, exit 1, explained', async () => {
    await apply(jobYaml('fail', 'echo attempt of $HOSTNAME; exit 4', { backoffLimit: 1 }));
    const r = await runCli([
      'wait',
      'jobs/fail',
      '-n',
      t.ns,
      '-o',
      'json',
      '--output-file',
      '/dev/null',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.match(/attempt of fail-/g)).toHaveLength(2);
    expect(r.stderr).toContain('job/fail failed: failed 2 attempts (backoffLimit 1)');
    expect(r.stderr).toContain('exited with code 4');
    expect(r.stderr).toContain('FAILED: job/fail failed');
    expect(await getJob('fail')).toBeDefined();
  });

  it('waits for a Job that appears later, and deletes it with --cleanup', async () => {
    const later = setTimeout(() => void apply(jobYaml('later', lines(3, 'later-line'))), 2_000);
    try {
      const r = await runCli([
        'wait',
        'job/later',
        '-n',
        t.ns,
        '--appear-timeout',
        '60s',
        '--cleanup',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.match(/later-line \d/g)).toEqual([
        'later-line 1',
        'later-line 2',
        'later-line 3',
      ]);
      expect(r.stderr).toContain('deleting job/later');
    } finally {
      clearTimeout(later);
    }
    expect(await getJob('later')).toBeUndefined();
  });

  it('gives exit 3 for a Job that never appears, naming it', async () => {
    const r = await runCli(['wait', 'job/missing', '-n', t.ns, '--appear-timeout', '2s']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `job/missing did not appear in namespace ${t.ns} within 2.0 s: check the name and the namespace (-n)`,
    );
  });

  it('waits for every Job of a selector: one fails, so exit 1; both logs complete', async () => {
    await apply(
      [
        jobYaml('sel-a', lines(5, 'sel-a-line'), { extra: '' }),
        jobYaml('sel-b', 'echo sel-b-line; exit 2'),
      ]
        .map((y) => y.replace('metadata:\n', 'metadata:\n  labels: {suite: sel}\n'))
        .join('---\n'),
    );
    const r = await runCli(['wait', '-l', 'suite=sel', '-n', t.ns]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.match(/sel-a-line \d/g)).toHaveLength(5);
    expect(r.stdout).toContain('sel-b-line');
    expect(r.stderr).toMatch(/job\/sel-a +Complete/);
    expect(r.stderr).toMatch(/job\/sel-b +Failed/);
  });

  it('reports every Job of a selector when all had finished before it started', async () => {
    // The first Job of the list is finished: that must not end the wait before the others count.
    await apply(
      [jobYaml('done-a', 'echo done-a-line'), jobYaml('done-b', 'echo done-b-line; exit 2')]
        .map((y) => y.replace('metadata:\n', 'metadata:\n  labels: {suite: done}\n'))
        .join('---\n'),
    );
    const finished = async (name: string) =>
      (await getJob(name))?.status?.conditions?.some((c) => c.status === 'True') ?? false;
    await until(
      async () => (await finished('done-a')) && (await finished('done-b')),
      60_000,
      'done-a and done-b to finish',
    );
    const r = await runCli(['wait', '-l', 'suite=done', '-n', t.ns]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('done-a-line');
    expect(r.stdout).toContain('done-b-line');
    expect(r.stderr).toMatch(/job\/done-a +Complete/);
    expect(r.stderr).toMatch(/job\/done-b +Failed/);
  });

  it('refuses other kinds and a mix of names and selector (exit 2)', async () => {
    const kind = await runCli(['wait', 'deployment/web', '-n', t.ns]);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('"deployment/web": wait takes Jobs, as job/NAME');
    const both = await runCli(['wait', 'job/a', '-l', 'x=y', '-n', t.ns]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('name the Jobs (job/NAME ...) or give a selector (-l)');
  });

  it('--sidecar: a Job made by kubectl with a log shipper that never ends passes when its main container does', async () => {
    const shipper = `        - name: shipper
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo shipping; exec tail -f /dev/null"]
`;
    await apply(jobYaml('shipped', 'echo main done', { extra: shipper }));
    const r = await runCli([
      'wait',
      'job/shipped',
      '-n',
      t.ns,
      '--sidecar',
      'shipper',
      '--cleanup',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\/main\] main done\n/);
    expect(r.stderr).toContain('job/shipped Complete, by its main containers');
    await until(
      async () => (await getJob('shipped')) === undefined,
      30_000,
      'job/shipped to be gone',
    );
  });
});

/** The pod name in `[pod/NAME/main]` of the first prefixed line. */
function podOf(stdout: string): string {
  return /\[pod\/([^/]+)\/main\]/.exec(stdout)?.[1] ?? '?';
}
