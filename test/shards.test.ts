// Sharding (issue 23): a suite of 8 tests of 2 s each as 4 shards; every test once, per-shard
// results, the slowest shard; a failing shard fails the run and is named.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { startFaultProxy } from './fault-proxy.js';
import { manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('shards');

/** A Job whose 8 tests (2 s each) are split by KUBESTEP_SHARD_INDEX/COUNT; `failing` fails in one shard. */
const suite = (name: string, annotations = '', failing = -1) =>
  manifestFile(`apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
${annotations}spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: tests
          image: busybox:local
          imagePullPolicy: Never
          command:
            - sh
            - -c
            - |
              i=$KUBESTEP_SHARD_INDEX; n=$KUBESTEP_SHARD_COUNT
              [ -n "$n" ] || { i=0; n=1; }
              for t in 0 1 2 3 4 5 6 7; do
                [ $((t % n)) -eq "$i" ] || continue
                sleep 2
                [ "$t" -eq ${failing} ] && { echo "FAIL test-$t"; exit 1; }
                echo "ok test-$t (shard $i of $n, completion index $JOB_COMPLETION_INDEX)"
              done
`);

interface Result {
  jobs: { name: string; outcome: string; durationMs: number }[];
}

it('--shards 4: every test once, four Jobs, the slowest well under the serial time', async () => {
  const file = suite('suite');
  const out = join(dirname(file), 'result.json');
  const sharded = await runCli([
    'run',
    '-f',
    file,
    '-n',
    t.ns,
    '--shards',
    '4',
    '-o',
    'json',
    '--output-file',
    out,
  ]);
  expect(sharded.code, sharded.stderr).toBe(0);
  for (let k = 0; k < 8; k++)
    expect(
      sharded.stdout.match(
        new RegExp(`ok test-${k} \\(shard ${k % 4} of 4, completion index ${k % 4}\\)`, 'g'),
      ),
    ).toHaveLength(1);
  // 1.20 has no Indexed Jobs: the dry run of one (the probe) drops its fields, and kubestep says so.
  expect(sharded.stderr).toMatch(
    /shards run as one Job each: this cluster does not keep backoffLimitPerIndex in an Indexed Job \(Kubernetes 1\.29\+\)/,
  );
  expect(sharded.stdout).toMatch(/\[pod\/suite-shard-2-\w+\/tests\] ok test-2/);
  expect(sharded.stderr).toMatch(
    /job\/suite in 4 shards: 4 Complete; slowest suite-shard-\d [\d.]+ s, fastest [\d.]+ s/,
  );
  const result = JSON.parse(readFileSync(out, 'utf8')) as Result;
  expect(result.jobs.map((j) => [j.name, j.outcome])).toEqual(
    [0, 1, 2, 3].map((i) => [`suite-shard-${i}`, 'Complete']),
  );
  const slowest = Math.max(...result.jobs.map((j) => j.durationMs));

  const serial = await runCli([
    'run',
    '-f',
    suite('serial'),
    '-n',
    t.ns,
    '-o',
    'json',
    '--output-file',
    out,
  ]);
  expect(serial.code, serial.stderr).toBe(0);
  const one = (JSON.parse(readFileSync(out, 'utf8')) as Result).jobs[0]!.durationMs;
  console.log(`8 tests of 2 s: serial ${one} ms, slowest of 4 shards ${slowest} ms`);
  // 16 s of tests: one shard has 4 s of them, 12 s less (alone: 5 s vs 18 s; under the load of
  // the parallel cluster tests a shard's pod took up to 6 s more to start, hence the margin).
  expect(one).toBeGreaterThanOrEqual(16_000);
  expect(slowest).toBeLessThan(one - 6_000);
}, 200_000);

it('the annotation kubestep.dev/shards: a failing shard fails the run (exit 1) and is named', async () => {
  const r = await runCli([
    'run',
    '-f',
    suite('flaky', '  annotations: {kubestep.dev/shards: "3"}\n', 4),
    '-n',
    t.ns,
  ]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toMatch(/\[pod\/flaky-shard-1-\w+\/tests\] FAIL test-4/);
  expect(r.stderr).toMatch(/job\/flaky in 3 shards: 2 Complete, 1 not \(flaky-shard-1\)/);
}, 200_000);

it('the Indexed Job dry run refused (403 through a proxy): shards run as Jobs, and the line says the dry run failed', async () => {
  // The first dry-run create of a Job is the probe (before the run's own preflight).
  const proxy = await startFaultProxy('https://127.0.0.1:6443', {
    refuse: {
      request: /^POST \/apis\/batch\/v1\/namespaces\/[^/]+\/jobs\?dryRun=All/,
      status: 403,
      times: 1,
    },
  });
  try {
    const kubeconfig = proxy.kubeconfigFor(
      t.kubeconfig,
      mkdtempSync(join(tmpdir(), 'kubestep-shards-')),
    );
    const r = await runCli([
      'run',
      '-f',
      suite('refused', '  annotations: {kubestep.dev/shards: "2"}\n'),
      '-n',
      t.ns,
      '--kubeconfig',
      kubeconfig,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.counts.errors).toBe(1);
    expect(r.stderr).toMatch(
      /shards run as one Job each: the dry run of an Indexed Job that tells whether this cluster keeps backoffLimitPerIndex \(Kubernetes 1\.29\+, which per-shard retries need\) failed: .*(403|[Ff]orbidden)/,
    );
    expect(r.stderr).not.toMatch(/does not keep backoffLimitPerIndex/);
    expect(r.stderr).toMatch(/job\/refused in 2 shards: 2 Complete/);
  } finally {
    await proxy.close();
  }
}, 200_000);
