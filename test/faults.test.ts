// kubestep through a fault-injecting proxy in front of the real API server (test/fault-proxy.ts):
// dropped watches, 5xx and 429 answers, lost answers, expired resourceVersions, an API server
// that is unreachable for a while or for too long. Outcome and exit code must stay right, every
// log line must arrive once, and nothing may be created twice.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS, PODS } from '../src/kube/resources.js';
import type { Job, Pod } from '../src/kube/types.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('faults');
let proxy: FaultProxy;
let kubeconfig: string;

/** A script printing `tick 1` .. `tick N`, one a second, then exiting with `code`. */
const ticks = (n: number, code = 0) =>
  `i=1; while [ $i -le ${n} ]; do echo "tick $i"; sleep 1; i=$((i+1)); done; exit ${code}`;

const tickLines = (stdout: string, prefix = '') =>
  stdout.split('\n').filter((l) => l.startsWith(`${prefix}tick `));

const seq = (n: number, prefix = '') =>
  Array.from({ length: n }, (_, i) => `${prefix}tick ${i + 1}`);

beforeAll(async () => {
  proxy = await startFaultProxy('https://127.0.0.1:6443');
  kubeconfig = proxy.kubeconfigFor(t.kubeconfig, mkdtempSync(join(tmpdir(), 'kubestep-faults-')));
});
afterAll(async () => {
  await proxy?.close();
});

/** Runs kubestep through the proxy with `knobs` (reset afterwards). */
async function throughProxy(
  args: string[],
  knobs: Parameters<FaultProxy['set']>[0],
  onOutput?: (text: string) => void,
) {
  proxy.set(knobs);
  try {
    return await runCli([...args, '-n', t.ns], {
      env: { KUBECONFIG: kubeconfig },
      onOutput: onOutput && ((text) => onOutput(text)),
    });
  } finally {
    proxy.set({
      watchDropAfterMs: undefined,
      watchDropAfterEvents: undefined,
      errorEvery: undefined,
      errorStatuses: undefined,
      errorAfterForwarding: undefined,
      retryAfterSeconds: undefined,
      delayMs: undefined,
      logCutBytes: undefined,
      goneWatches: undefined,
      unreachable: false,
    });
  }
}

describe('faults between kubestep and the API server', () => {
  it('watches dropped every 2 s for a 60 s run: both outcomes right, exit 1, every line once', async () => {
    const f = manifestFile(
      [jobYaml('long-pass', ticks(60)), jobYaml('short-fail', ticks(30, 3))].join('---\n'),
    );
    const drops = proxy.counts.watchDrops;
    const r = await throughProxy(
      [
        'run',
        '-f',
        f,
        '-o',
        'json',
        '--output-file',
        join(mkdtempSync(join(tmpdir(), 'ks-')), 'r.json'),
      ],
      {
        watchDropAfterMs: 2_000,
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/job\/long-pass +Complete/);
    expect(r.stderr).toMatch(/job\/short-fail +Failed/);
    const pod = (name: string) => new RegExp(`^\\[pod/${name}-\\w+/main\\] `);
    const linesOf = (name: string) =>
      r.stdout
        .split('\n')
        .filter((l) => pod(name).test(l))
        .map((l) => l.replace(pod(name), ''));
    expect(linesOf('long-pass')).toEqual(seq(60));
    expect(linesOf('short-fail')).toEqual(seq(30));
    const dropped = proxy.counts.watchDrops - drops;
    console.log(`watch drops during the 60 s run: ${dropped}`);
    expect(dropped).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['before the request is forwarded', false],
    ['after it took effect (a lost answer)', true],
  ])(
    'every 5th request answered 500, 429 or 503 %s: exit 0, one Job, one pod',
    async (_name, after) => {
      const name = after ? 'lost-answers' : 'errors';
      const f = manifestFile(jobYaml(name, ticks(5)));
      const errors = proxy.counts.errors;
      const r = await throughProxy(['run', '-f', f, '--cleanup', 'never', '--run-id', name], {
        errorEvery: 5,
        errorStatuses: [500, 429, 503],
        errorAfterForwarding: after,
        retryAfterSeconds: after ? 1 : undefined,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(tickLines(r.stdout)).toEqual(seq(5));
      const injected = proxy.counts.errors - errors;
      console.log(`${name}: ${injected} errors injected`);
      expect(injected).toBeGreaterThanOrEqual(3);
      // Nothing twice: one Job of that name (kept), one pod.
      const jobs = await t.client.list<Job>(
        JOBS,
        t.ns,
        { labelSelector: `kubestep.dev/run-id=${name}` },
        AbortSignal.timeout(10_000),
      );
      expect(jobs.items.filter((j) => j.metadata?.name === name)).toHaveLength(1);
      const pods = await t.client.list<Pod>(
        PODS,
        t.ns,
        { labelSelector: `job-name=${name}` },
        AbortSignal.timeout(10_000),
      );
      expect(pods.items).toHaveLength(1);
    },
  );

  it('410 Gone on watches: kubestep lists again; outcome right, every line once', async () => {
    const f = manifestFile(jobYaml('gone', ticks(8)));
    const gone = proxy.counts.gone;
    const r = await throughProxy(['run', '-f', f], { goneWatches: 3 });
    expect(r.code, r.stderr).toBe(0);
    expect(proxy.counts.gone - gone).toBe(3);
    expect(tickLines(r.stdout)).toEqual(seq(8));
  });

  it('the API server unreachable for 20 s in the middle: kubestep waits, recovers, exit 0', async () => {
    const f = manifestFile(jobYaml('outage', ticks(40)));
    let cut = false;
    const r = await throughProxy(['run', '-f', f, '--api-timeout', '60s'], {}, (text) => {
      if (!cut && text.includes('tick 5\n')) {
        cut = true;
        proxy.set({ unreachable: true });
        setTimeout(() => proxy.set({ unreachable: false }), 20_000);
      }
    });
    expect(cut).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(tickLines(r.stdout)).toEqual(seq(40));
  });

  it('unreachable for longer than --api-timeout: exit 3, the cleanup attempted and reported', async () => {
    const f = manifestFile(jobYaml('gone-for-good', ticks(120)));
    let cut = false;
    const r = await throughProxy(
      ['run', '-f', f, '--api-timeout', '10s', '--grace', '5s'],
      {},
      (text) => {
        if (!cut && text.includes('tick 3\n')) {
          cut = true;
          proxy.set({ unreachable: true });
        }
      },
    );
    expect(cut).toBe(true);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/check that the API server is reachable/);
    expect(r.stderr).toMatch(/deleting job\/gone-for-good/);
    expect(r.stderr).toMatch(/cleanup: the API server did not answer within --grace 5 s/);
  });
});
