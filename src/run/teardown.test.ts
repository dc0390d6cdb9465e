// tearDown against a FakeKubeApi: the order of deletions, the propagation policies, kept runs and
// failures. The same against a real API server: test/run-lifecycle.test.ts, test/run-deps.test.ts.
import { describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../kube/fake-api.js';
import { CONFIGMAPS, JOBS, PODS, SERVICES } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { Ledger } from '../objects/ledger.js';
import { tearDown } from './teardown.js';

const NS = 'ci';

/** A fake cluster with a run: anchor Job, ConfigMap and Service (dependencies), a test Job with a pod. */
function aRun() {
  const kube = new FakeKubeApi();
  const ledger = new Ledger();
  const meta = (name: string, extra: KubeObject['metadata'] = {}) => ({
    metadata: { name, namespace: NS, ...extra },
  });
  const anchor = kube.add(JOBS, meta('kubestep-r1'));
  ledger.add(JOBS, anchor, 'anchor');
  const owner = [
    { kind: 'Job', name: 'kubestep-r1', uid: anchor.metadata.uid!, controller: false },
  ];
  ledger.add(
    CONFIGMAPS,
    kube.add(CONFIGMAPS, meta('settings', { ownerReferences: owner })),
    'dependency',
  );
  ledger.add(SERVICES, kube.add(SERVICES, meta('db', { ownerReferences: owner })), 'dependency');
  const job = kube.add(JOBS, {
    ...meta('tests', { ownerReferences: owner }),
    spec: {
      selector: { matchLabels: { 'controller-uid': 'c1' } },
      template: { spec: { containers: [] } },
    },
  });
  ledger.add(JOBS, job, 'test');
  kube.add(
    PODS,
    meta('tests-x1', {
      labels: { 'controller-uid': 'c1' },
      ownerReferences: [{ kind: 'Job', name: 'tests', uid: job.metadata.uid!, controller: true }],
    }),
  );
  const lines: string[] = [];
  const out = {
    info: (m: string) => lines.push(`info: ${m}`),
    warn: (m: string) => lines.push(`warn: ${m}`),
  };
  let t = 0;
  return { kube, ledger, lines, world: { client: kube, out, now: () => (t += 10) } };
}

const deletions = (kube: FakeKubeApi) => kube.calls.filter((c) => c.startsWith('delete '));

describe('tearDown', () => {
  it('deletes the tests, then the dependencies last-created first, then the anchor', async () => {
    const { kube, ledger, lines, world } = aRun();
    const order: string[] = [];
    await tearDown(world, ledger, {
      runId: 'r1',
      cleanup: 'always',
      succeeded: false,
      graceMs: 30_000,
      beforeAnchors: () =>
        order.push(`heartbeat stopped after ${deletions(kube).length} deletions`),
    });
    expect(deletions(kube)).toEqual([
      // A test Job with a known pod selector goes Background; kubestep waits for its pods.
      'delete job/ci/tests Background',
      'delete service/ci/db Background',
      'delete configmap/ci/settings Background',
      // The anchor has no pods (parallelism 0): Background, nothing to wait for.
      'delete job/ci/kubestep-r1 Background',
    ]);
    expect(order).toEqual(['heartbeat stopped after 1 deletions']);
    expect(lines).toEqual([
      'info: deleting job/tests',
      'info: deleting service/db, configmap/settings',
    ]);
    expect(kube.has(PODS, NS, 'tests-x1')).toBe(false);
  });

  it('deletes a finished Job and its ended pods by name, and lists nothing', async () => {
    const { kube, ledger, world } = aRun();
    const tests = ledger.items.find((i) => i.stage === 'test')!;
    const pod = kube.get(PODS, NS, 'tests-x1');
    tests.endedPods = [{ name: 'tests-x1', uid: (await pod)!.metadata!.uid! }];
    kube.calls.length = 0;
    await tearDown(world, ledger, {
      runId: 'r1',
      cleanup: 'always',
      succeeded: true,
      graceMs: 30_000,
    });
    expect(kube.calls).toEqual([
      'delete job/ci/tests Background',
      'delete pod/ci/tests-x1 Background',
      'delete service/ci/db Background',
      'delete configmap/ci/settings Background',
      'delete job/ci/kubestep-r1 Background',
    ]);
    expect(kube.has(PODS, NS, 'tests-x1')).toBe(false);
  });

  it.each([
    ['never', true],
    ['on-success', false],
  ] as const)(
    '--cleanup %s (succeeded: %s) keeps the objects, detached from the anchor',
    async (cleanup, succeeded) => {
      const { kube, ledger, lines, world } = aRun();
      await tearDown(world, ledger, { runId: 'r1', cleanup, succeeded, graceMs: 30_000 });
      expect(kube.calls.filter((c) => c.startsWith('patch '))).toEqual([
        'patch configmap/ci/settings',
        'patch service/ci/db',
        'patch job/ci/tests',
      ]);
      expect(deletions(kube)).toEqual(['delete job/ci/kubestep-r1 Orphan']);
      expect(kube.has(JOBS, NS, 'tests') && kube.has(SERVICES, NS, 'db')).toBe(true);
      expect(lines[0]).toBe(
        `info: keeping 3 objects (--cleanup ${cleanup}): configmap/settings, service/db, job/tests`,
      );
      expect(lines.at(-1)).toMatch(/delete them with: kubestep down --run-id r1 -n ci/);
    },
  );

  it('a deletion that fails is a warning with the command to check, and the rest still goes', async () => {
    const { kube, ledger, lines, world } = aRun();
    kube.failures.set('delete service/db', 403);
    await tearDown(world, ledger, {
      runId: 'r1',
      cleanup: 'always',
      succeeded: true,
      graceMs: 30_000,
    });
    expect(lines.at(-1)).toBe(
      'warn: cleanup: delete service/db: Forbidden; check with: kubectl get all,configmaps,secrets -l app.kubernetes.io/managed-by=kubestep,kubestep.dev/run-id=r1 -n ci',
    );
    expect(kube.has(JOBS, NS, 'tests')).toBe(false);
  });
});
