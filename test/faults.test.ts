// kubestep through a fault-injecting proxy in front of the real API server (test/fault-proxy.ts):
// dropped watches, 5xx and 429 answers, lost answers, expired resourceVersions, an API server
// that is unreachable for a while or for too long. Outcome and exit code must stay right, every
// log line must arrive once, and nothing may be created twice.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
  rmSync(marks, { recursive: true, force: true });
});

/** A host directory (the local cluster's node is this machine) where pods leave marks. */
const marks = mkdtempSync(join(tmpdir(), 'kubestep-faults-marks-'));

/**
 * A Job of two attempts (backoffLimit 1) whose pods print `line 000001` .. `line N` at about
 * 1,100 lines (47 KiB with timestamps) a second. The first attempt exits 7; the second exits 0
 * when `passOnRetry`, else 7 too. Attempts are told apart by a mark on a hostPath volume.
 */
function pacedJob(name: string, lines: number, passOnRetry: boolean): string {
  mkdirSync(join(marks, name), { recursive: true });
  const script =
    (passOnRetry
      ? 'if [ -e /mark/first ]; then code=0; else touch /mark/first; code=7; fi; '
      : 'code=7; ') +
    `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) { printf "line %06d\\n", i; ` +
    `if (i % 120 == 0) { fflush(); system("sleep 0.1") } } }'; exit $code`;
  return jobYaml(name, script, {
    backoffLimit: 1,
    extra: `          volumeMounts: [{name: mark, mountPath: /mark}]
      volumes: [{name: mark, hostPath: {path: ${join(marks, name)}, type: Directory}}]
`,
  });
}

/** Lines of each pod whose name starts with `job-`, by pod, in the order printed. */
function linesByPod(stdout: string, job: string): Map<string, string[]> {
  const byPod = new Map<string, string[]>();
  const re = new RegExp(`^\\[pod/(${job}-\\w+)/main\\] (.*)$`);
  for (const l of stdout.split('\n')) {
    const m = re.exec(l);
    if (!m) continue;
    const list = byPod.get(m[1]!) ?? [];
    list.push(m[2]!);
    byPod.set(m[1]!, list);
  }
  return byPod;
}

const numbered = (n: number) =>
  Array.from({ length: n }, (_, i) => `line ${String(i + 1).padStart(6, '0')}`);

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
    'every 3rd request answered 500, 429 or 503 %s: exit 0, one Job, one pod',
    async (_name, after) => {
      const name = after ? 'lost-answers' : 'errors';
      const f = manifestFile(jobYaml(name, ticks(5)));
      const errors = proxy.counts.errors;
      // A run of one Job makes ~12 requests (--cleanup never: fewer): every 3rd fails.
      const r = await throughProxy(['run', '-f', f, '--cleanup', 'never', '--run-id', name], {
        errorEvery: 3,
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

  it('log streams cut every 64 KiB: 100,000 lines of a passing and of a failing Job, each retried once, every line once and in order', async () => {
    const perPod = 50_000;
    const f = manifestFile(
      [pacedJob('cut-pass', perPod, true), pacedJob('cut-fail', perPod, false)].join('---\n'),
    );
    const cuts = proxy.counts.logCuts;
    const r = await throughProxy(['run', '-f', f], { logCutBytes: 64 * 1024 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/job\/cut-pass +Complete +.+? s +2 +\d+ +succeeded after 2 attempts/);
    expect(r.stderr).toMatch(/job\/cut-fail +Failed +.+? s +2 +\d+ +failed 2 attempts/);
    expect(r.stderr).not.toMatch(/missing|lost|warning/);
    for (const job of ['cut-pass', 'cut-fail']) {
      const byPod = linesByPod(r.stdout, job);
      expect([...byPod.keys()], job).toHaveLength(2);
      for (const [pod, lines] of byPod) {
        expect(lines.length, pod).toBe(perPod);
        // toEqual on 50,000 strings prints a useless diff: find the first difference.
        const want = numbered(perPod);
        const first = lines.findIndex((l, i) => l !== want[i]);
        expect(first === -1 ? 'in order' : `${pod}: line ${first}: ${lines[first]}`).toBe(
          'in order',
        );
      }
    }
    const made = proxy.counts.logCuts - cuts;
    console.log(`log streams cut: ${made} for 4 pods of 50,000 lines`);
    expect(made).toBeGreaterThanOrEqual(40);
  });

  it('a second of log larger than a cut stream carries: read by position once the container ended, every line once, outcome right', async () => {
    // 20,000 lines (860 KB with timestamps) within a second; reopening at that second with
    // sinceTime (one-second precision) can never get past 64 KiB, so the rest is read by
    // position (tailLines, limitBytes) after the container has ended.
    const f = manifestFile(
      // The sleep: containerd on the local node drops the last ~5,000 lines from its log file
      // when a container that wrote this fast exits at once (seen in the node's file).
      jobYaml(
        'burst',
        `awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "line %06d\\n", i }'; sleep 1`,
      ),
    );
    const r = await throughProxy(['run', '-f', f], { logCutBytes: 64 * 1024 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /\[pod\/burst-\w+\/main\] the log stream was cut 5 times in a row before it got past \S+Z \(more log in one second than the connection carries\); the rest of this container's log (follows once it has ended|is read by position)/,
    );
    // One Job, one container: lines are printed without a pod prefix.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('line '))).toEqual(numbered(20_000));
    expect(r.stderr).toMatch(/job\/burst +Complete +\S+ s +1 +20000 +succeeded/);
  });
});
