// Leftovers of killed runs: the sweep at the start of the next run, `kubestep gc`, and runs that
// are alive (never touched).
import { describe, expect, it } from 'vitest';
import { ANNOTATION_ALIVE_UNTIL } from '../src/manifests/jobs.js';
import { CONFIGMAPS, JOBS } from '../src/kube/resources.js';
import type { Job, KubeObject } from '../src/kube/types.js';
import {
  accountWithRules,
  kubectl,
  manifestFile,
  rbacRules,
  runCli,
  startCli,
  until,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('gc');

// The same manifests in every run; names made unique by ${RUN_ID}, the duration by --set.
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
          command: ["sh", "-c", "echo started; sleep \${SLEEP}; echo done"]
`;
const DEPS = `apiVersion: v1
kind: ConfigMap
metadata: {name: "settings-\${RUN_ID}"}
data: {mode: test}
`;

const sig = () => AbortSignal.timeout(10_000);
const getJob = (name: string) => t.client.get<Job>(JOBS, t.ns, name, sig());
const getConfigMap = (name: string) => t.client.get<KubeObject>(CONFIGMAPS, t.ns, name, sig());

/** What run `id` has in the namespace: its test Job, its ConfigMap, its anchor. */
async function objectsOf(id: string): Promise<string[]> {
  const found = await Promise.all([
    getJob(`suite-${id}`),
    getConfigMap(`settings-${id}`),
    getJob(`kubestep-run-${id}`),
  ]);
  return found.filter((o) => o && !o.metadata?.deletionTimestamp).map((o) => o!.metadata!.name!);
}

describe('leftovers of killed runs', () => {
  const files = () => ['-f', manifestFile(JOB), '--deps', manifestFile(DEPS, 'deps.yaml')];
  const base = () => [...files(), '-n', t.ns, '--grace', '10s'];

  /** Starts a run, SIGKILLs it once its Job exists, and waits until its heartbeat expired. */
  async function killedRun(id: string): Promise<void> {
    const run = await startCli(
      ['run', ...base(), '--run-id', id, '--set', 'SLEEP=60', '--heartbeat-lease', '3s'],
      'created job/',
    );
    run.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    expect(await objectsOf(id)).toHaveLength(3);
    // Bounded: the lease is 3 s; the last renewal moved alive-until at most 3 s ahead.
    await until(
      async () => {
        const a = await getJob(`kubestep-run-${id}`);
        const until = Date.parse(a?.metadata?.annotations?.[ANNOTATION_ALIVE_UNTIL] ?? '');
        return until < Date.now() - 500;
      },
      10_000,
      `the heartbeat of run ${id} to expire`,
    );
  }

  it('are removed by the next run and by gc; a running run of the same manifests is kept; --dry-run deletes nothing', async () => {
    // A run that is alive: its Job runs for a minute and it renews its heartbeat.
    const alive = await startCli(
      ['run', ...base(), '--run-id', 'alive', '--set', 'SLEEP=60'],
      'created job/',
    );
    try {
      await killedRun('killed1');

      // gc with the default --older-than (6 h) keeps the young leftovers.
      const young = await runCli(['gc', '-n', t.ns]);
      expect(young.code, young.stderr).toBe(0);
      expect(young.stderr).toContain('deleted 0;');
      expect(await objectsOf('killed1')).toHaveLength(3);

      // --dry-run names exactly the killed run's objects and deletes nothing.
      const dry = await runCli(['gc', '-n', t.ns, '--older-than', '0s', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      for (const o of [
        'job/suite-killed1',
        'configmap/settings-killed1',
        'job/kubestep-run-killed1',
      ])
        expect(dry.stderr).toContain(`would delete ${o} (run killed1: run killed)`);
      expect(dry.stderr).not.toMatch(/would delete \S+-alive/);
      expect(dry.stderr).toContain('--dry-run: nothing was deleted');
      expect(await objectsOf('killed1')).toHaveLength(3);

      // The next run of the same manifests sweeps the killed run, not the live one.
      const next = await runCli(['run', ...base(), '--run-id', 'next', '--set', 'SLEEP=0']);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain(
        'sweep: deleted job/suite-killed1, configmap/settings-killed1, job/kubestep-run-killed1 of earlier run killed1 (it is over)',
      );
      expect(next.stderr).not.toMatch(/sweep: .*alive/);
      await until(async () => (await objectsOf('killed1')).length === 0, 30_000, 'killed1 gone');
      expect(await objectsOf('alive')).toHaveLength(3);

      // gc does the same for a second killed run, and keeps the live one.
      await killedRun('killed2');
      const gc = await runCli(['gc', '-n', t.ns, '--older-than', '0s']);
      expect(gc.code, gc.stderr).toBe(0);
      expect(gc.stderr).toContain('deleted job/suite-killed2 (run killed2: run killed)');
      expect(gc.stderr).toMatch(/deleted 3 \(run killed: 3\); kept \d+ \(run live: 3/);
      await until(async () => (await objectsOf('killed2')).length === 0, 30_000, 'killed2 gone');
      expect(await objectsOf('alive')).toHaveLength(3);
      const job = await getJob('suite-alive');
      expect(job?.status?.conditions ?? []).toEqual([]); // still running, untouched
    } finally {
      alive.kill('SIGTERM');
    }
    const end = await alive.result;
    expect(end.code).toBe(143);
    await until(async () => (await objectsOf('alive')).length === 0, 30_000, 'alive cleaned up');
  });

  it('gc keeps going past a deletion it may not make, exits 3 and names it; -A --dry-run finds it in any namespace', async () => {
    await killedRun('denied');
    // Cluster-wide, as an admin: only in namespaces labelled kubestep.dev/gc=enabled.
    const admin = { env: { KUBECONFIG: process.env.KUBECONFIG ?? '' } };
    const gcAll = () => runCli(['gc', '-A', '--older-than', '0s', '--dry-run'], admin);
    const none = await gcAll();
    expect(none.code, none.stderr).toBe(0);
    expect(none.stderr).not.toContain(t.ns);
    await kubectl(['label', 'namespace', t.ns, 'kubestep.dev/gc=enabled']);
    const all = await gcAll();
    expect(all.code, all.stderr).toBe(0);
    // The dry run names the namespace of each object.
    expect(all.stderr).toContain(
      `would delete configmap/settings-denied in ${t.ns} (run denied: run killed)`,
    );
    expect(all.stderr).toMatch(
      /gc in the \d+ namespaces? labelled kubestep.dev\/gc=enabled: \d+ objects? of \d+ runs?; would delete \d+/,
    );

    // kubestep's rules without delete on configmaps.
    const rules = rbacRules().map((r) =>
      r.resources.includes('configmaps')
        ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') }
        : r,
    );
    const kubeconfig = await accountWithRules(t.client, t.ns, 'no-delete-cm', rules);
    const r = await runCli(['gc', '-n', t.ns, '--older-than', '0s', '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/could not delete configmap\/settings-denied in \S+: .*forbidden/i);
    expect(r.stderr).toContain('deleted job/suite-denied (run denied: run killed)');
    expect(r.stderr).toContain('deleted job/kubestep-run-denied (run denied: run killed)');
    expect(r.stderr).toContain('1 deletion failed (listed above)');
    await until(async () => (await getJob('suite-denied')) === undefined, 30_000, 'Job deleted');
  });

  it('gc leaves alone an object with only the managed-by and run-id labels', async () => {
    const lookalike = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'lookalike',
        labels: { 'app.kubernetes.io/managed-by': 'kubestep', 'kubestep.dev/run-id': 'other' },
      },
      data: { mine: 'yes' },
    };
    await t.client.create(CONFIGMAPS, t.ns, lookalike, sig());
    const r = await runCli(['gc', '-n', t.ns, '--older-than', '0s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('configmap/lookalike');
    expect(r.stderr).toMatch(/kept \d+ \(.*not all kubestep labels: 1/);
    expect(await getConfigMap('lookalike')).toBeDefined();
  });

  it('a run kept with --cleanup never is swept by the next run of the same manifests, not with --no-sweep', async () => {
    const kept = await runCli([
      'run',
      ...base(),
      '--run-id',
      'kept',
      '--set',
      'SLEEP=0',
      '--cleanup',
      'never',
    ]);
    expect(kept.code, kept.stderr).toBe(0);
    // The anchor went alone: the kept objects stay, without an owner that could delete them.
    await until(async () => (await objectsOf('kept')).length === 2, 20_000, 'anchor of kept gone');
    const cm = await getConfigMap('settings-kept');
    expect(cm?.metadata?.ownerReferences ?? []).toEqual([]);

    const noSweep = await runCli([
      'run',
      ...base(),
      '--run-id',
      'nosweep',
      '--set',
      'SLEEP=0',
      '--no-sweep',
    ]);
    expect(noSweep.code, noSweep.stderr).toBe(0);
    expect(noSweep.stderr).not.toContain('sweep:');
    expect(await objectsOf('kept')).toEqual(['suite-kept', 'settings-kept']);

    const swept = await runCli(['run', ...base(), '--run-id', 'swept', '--set', 'SLEEP=0']);
    expect(swept.code, swept.stderr).toBe(0);
    expect(swept.stderr).toContain(
      'sweep: deleted job/suite-kept, configmap/settings-kept of earlier run kept (it is over)',
    );
    await until(async () => (await objectsOf('kept')).length === 0, 30_000, 'kept gone');
  });
});
