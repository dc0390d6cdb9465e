// collectGarbage against a FakeKubeApi: what goes, what stays, --dry-run, and failures that do not
// stop the rest. The same against a real API server: test/gc-sweep.test.ts.
import { describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../kube/fake-api.js';
import { CONFIGMAPS, JOBS, MANAGED_KINDS } from '../kube/resources.js';
import { anchorJob } from '../manifests/deps.js';
import { LABEL_TEMPLATE, runLabels } from '../manifests/jobs.js';
import { collectGarbage } from './collect.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const H = 3_600_000;
const NS = 'ci';
const RULES = { olderThanMs: 6 * H, maxAgeMs: 24 * H };

/** Two runs in namespace ci: `dead` (its heartbeat ran out 7 h ago) and `live` (alive 5 more min). */
function twoRuns() {
  const kube = new FakeKubeApi();
  const created = new Date(NOW - 8 * H).toISOString();
  for (const [runId, untilMs] of [
    ['dead', NOW - 7 * H],
    ['live', NOW + 300_000],
  ] as const) {
    const anchor = anchorJob(runId, NS, 86_400, { untilMs, leaseSeconds: 300 });
    kube.add(JOBS, { ...anchor, metadata: { ...anchor.metadata, creationTimestamp: created } });
    kube.add(CONFIGMAPS, {
      metadata: {
        name: `settings-${runId}`,
        namespace: NS,
        creationTimestamp: created,
        labels: { ...runLabels(runId, 'dependency'), [LABEL_TEMPLATE]: '0123456789abcdef' },
      },
    });
  }
  const lines: string[] = [];
  const out = {
    info: (m: string) => lines.push(m),
    warn: (m: string) => lines.push(m),
    debug: (m: string) => lines.push(m),
  };
  return { kube, world: { client: kube, out, now: () => NOW } };
}

const scope = { namespaces: [NS], kinds: MANAGED_KINDS };
const names = (r: Awaited<ReturnType<typeof collectGarbage>>) =>
  r.done.map((d) => `${d.res.kind}/${d.object.metadata?.name}`).sort();

describe('collectGarbage', () => {
  it('deletes the objects of a killed run, each confirmed by a fresh GET, and keeps a live run', async () => {
    const { kube, world } = twoRuns();
    const r = await collectGarbage(
      world,
      scope,
      RULES,
      { dryRun: false },
      AbortSignal.timeout(5_000),
    );
    expect(names(r)).toEqual(['configmap/settings-dead', 'job/kubestep-run-dead']);
    expect(r.deleted).toEqual({ 'run killed': 2 });
    expect(
      kube.has(CONFIGMAPS, NS, 'settings-live') && kube.has(JOBS, NS, 'kubestep-run-live'),
    ).toBe(true);
    expect(kube.calls.filter((c) => c.startsWith('delete '))).toEqual([
      expect.stringMatching(
        /^delete (configmap\/ci\/settings-dead|job\/ci\/kubestep-run-dead) Background$/,
      ),
      expect.stringMatching(
        /^delete (configmap\/ci\/settings-dead|job\/ci\/kubestep-run-dead) Background$/,
      ),
    ]);
  });

  it('skips a kind it may not list (Secrets without the optional Role), and names it', async () => {
    const { world, kube } = twoRuns();
    kube.failures.set('list secret/app.kubernetes.io/managed-by=kubestep', 403);
    const r = await collectGarbage(
      world,
      scope,
      RULES,
      { dryRun: true },
      AbortSignal.timeout(5_000),
    );
    expect(r.forbidden).toEqual(['secrets in ci']);
    expect(names(r)).toEqual(['configmap/settings-dead', 'job/kubestep-run-dead']);
    kube.failures.set('list job/app.kubernetes.io/managed-by=kubestep', 403);
    await expect(
      collectGarbage(world, scope, RULES, { dryRun: true }, AbortSignal.timeout(5_000)),
    ).rejects.toThrow(/list job/);
  });

  it('--dry-run: says what would go and deletes nothing', async () => {
    const { kube, world } = twoRuns();
    const r = await collectGarbage(
      world,
      scope,
      RULES,
      { dryRun: true },
      AbortSignal.timeout(5_000),
    );
    expect(names(r)).toEqual(['configmap/settings-dead', 'job/kubestep-run-dead']);
    expect(kube.calls.filter((c) => !c.startsWith('list '))).toEqual([]);
  });

  it('a deletion that fails is collected, and the others still go', async () => {
    const { kube, world } = twoRuns();
    kube.failures.set('delete configmap/settings-dead', 403);
    const r = await collectGarbage(
      world,
      scope,
      RULES,
      { dryRun: false },
      AbortSignal.timeout(5_000),
    );
    expect(r.failures).toEqual([
      'configmap/settings-dead in ci: delete configmap/settings-dead: Forbidden',
    ]);
    expect(kube.has(JOBS, NS, 'kubestep-run-dead')).toBe(false);
  });
});
