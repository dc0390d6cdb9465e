// `npm run bench`: kubestep against kubectl on the local cluster, side by side in the same run
// (interleaved rounds, medians), printed as a table and written to bench-results.json.
// Not part of the tests: it measures, and fails only when a run itself fails. Knobs:
// BENCH_ROUNDS (5), BENCH_LONG_SECONDS (600, the long Job of the API cost), BENCH_LOG_LINES
// (1000000; the log figures also run a tenth of it, to show how memory grows with the log),
// BENCH_SCALE_JOBS (50), BENCH_ONLY (comma-separated names of measurements). kubestep runs with
// the Node flags of the image's ENTRYPOINT (Dockerfile), as it runs in CI.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JOBS } from '../../src/kube/resources.js';
import type { Job } from '../../src/kube/types.js';
import { startFaultProxy, type FaultProxy } from '../fault-proxy.js';
import { CLI, jobYaml, KUBECTL, kubectl, manifestFile, useTestNamespace } from '../harness.js';

const t = useTestNamespace('bench');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LONG_SECONDS = Number(process.env.BENCH_LONG_SECONDS ?? 600);
const LOG_LINES = Number(process.env.BENCH_LOG_LINES ?? 1_000_000);
const SCALE_JOBS = Number(process.env.BENCH_SCALE_JOBS ?? 50);
const ONLY = process.env.BENCH_ONLY?.split(',');
const NODE = process.execPath;
/** The Node flags of the Dockerfile's ENTRYPOINT (`--max-semi-space-size=2`): kubestep as it ships. */
const NODE_FLAGS = (
  JSON.parse(
    /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(
      readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'),
    )?.[1] ?? '[]',
  ) as string[]
).filter((a) => a.startsWith('--'));

/** One row of the table: a measurement, kubestep's figure, kubectl's, and their ratio. */
interface Row {
  name: string;
  unit: string;
  kubestep: number;
  kubectl?: number | undefined;
  /** kubestep / kubectl (for throughput: kubestep / kubectl too; higher is better there). */
  ratio?: number | undefined;
  target: string;
  samples: { kubestep: number[]; kubectl?: number[] };
}
const rows: Row[] = [];
const notes: string[] = [];
let home: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'kubestep-bench-'));
  notes.push(
    `kubestep runs as: node ${[...NODE_FLAGS, 'build/kubestep.mjs'].join(' ')} (the image's ENTRYPOINT)`,
  );
});

afterAll(() => {
  if (rows.length === 0) return;
  const w = (s: string, n: number) => s.padEnd(n);
  const fmt = (n: number | undefined) =>
    n === undefined ? '-' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  const lines = [
    `${w('measurement', 58)} ${w('unit', 9)} ${w('kubestep', 10)} ${w('kubectl', 10)} ${w('ratio', 7)} target`,
    ...rows.map(
      (r) =>
        `${w(r.name, 58)} ${w(r.unit, 9)} ${w(fmt(r.kubestep), 10)} ${w(fmt(r.kubectl), 10)} ${w(fmt(r.ratio), 7)} ${r.target}`,
    ),
    ...notes.map((n) => `note: ${n}`),
  ];
  console.log(`\nkubestep bench (medians of ${ROUNDS} rounds)\n${lines.join('\n')}\n`);
  const file = process.env.BENCH_OUT ?? 'bench-results.json';
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), rounds: ROUNDS, rows, notes }, null, 2),
  );
  console.log(`written: ${file}`);
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function row(
  name: string,
  unit: string,
  target: string,
  ks: number[],
  kc?: number[],
  ratio?: (a: number, b: number) => number,
): Row {
  const r: Row = {
    name,
    unit,
    target,
    kubestep: median(ks),
    kubectl: kc && median(kc),
    samples: { kubestep: ks, ...(kc ? { kubectl: kc } : {}) },
  };
  if (r.kubectl !== undefined) r.ratio = (ratio ?? ((a, b) => a / b))(r.kubestep, r.kubectl);
  rows.push(r);
  return r;
}

/** What a timed process did: wall time, exit code, stdout lines, peak RSS, when it ended. */
interface Timed {
  ms: number;
  code: number | null;
  lines: number;
  /** Peak resident set (VmHWM): anonymous memory plus the pages of the node binary it touched. */
  peakRssMiB: number;
  /** Peak anonymous resident memory (RssAnon, sampled every 100 ms): heap, code, buffers. */
  peakAnonMiB: number;
  endedAt: number;
  firstLineAt?: number;
  lastLineAt?: number;
  stderr: string;
}

/** Runs a command, counting stdout lines (not keeping them) and sampling its peak RSS. */
function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        KUBECONFIG: t.kubeconfig,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let lines = 0;
    let stderr = '';
    let peakKiB = 0;
    let peakAnonKiB = 0;
    let firstLineAt: number | undefined;
    let lastLineAt: number | undefined;
    const peek = () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        peakKiB = Math.max(peakKiB, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        peakAnonKiB = Math.max(peakAnonKiB, Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0));
      } catch {
        // ended
      }
    };
    const sampler = setInterval(peek, 100);
    child.stdout.on('data', (d: Buffer) => {
      let n = 0;
      for (const b of d) if (b === 10) n++;
      if (n > 0) {
        lastLineAt = performance.now();
        firstLineAt ??= lastLineAt;
        lines += n;
      }
      peek();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 100_000) stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      const endedAt = performance.now();
      resolve({
        ms: endedAt - started,
        code,
        lines,
        peakRssMiB: peakKiB / 1024,
        peakAnonMiB: peakAnonKiB / 1024,
        endedAt,
        firstLineAt,
        lastLineAt,
        stderr,
      });
    });
  });
}

const kubestep = (args: string[], env?: Record<string, string>) =>
  timed(NODE, [...NODE_FLAGS, CLI, ...args], env);
const kubectlT = (args: string[]) => timed(KUBECTL, [...args, '-n', t.ns]);

async function ok(p: Promise<Timed>, what: string): Promise<Timed> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r;
}

/**
 * Resolves with performance.now() when this process's own watch of Job `name` sees `is` become
 * true (`what` names it in errors); throws when it was true before the watch started.
 */
async function seenWhen(
  name: string,
  what: string,
  is: (j: Job | undefined, type: string) => boolean,
  signal: AbortSignal,
): Promise<number> {
  const list = await t.client.list<Job>(
    JOBS,
    t.ns,
    { fieldSelector: `metadata.name=${name}` },
    signal,
  );
  if (is(list.items[0], 'LIST')) throw new Error(`${name} was ${what} before the watch started`);
  for await (const ev of t.client.watch<Job>(
    JOBS,
    t.ns,
    {
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: list.metadata?.resourceVersion ?? '0',
      timeoutSeconds: 120,
    },
    signal,
  )) {
    if (ev.type !== 'BOOKMARK' && is(ev.object as Job, ev.type)) return performance.now();
  }
  throw new Error(`the watch of ${name} ended before it was ${what}`);
}

/** When this process's own watch sees Job `name` Complete. */
const completeSeen = (name: string, signal: AbortSignal) =>
  seenWhen(
    name,
    'Complete',
    (j) =>
      j?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false,
    signal,
  );

/** When this process's own watch sees Job `name` created. */
const createdSeen = (name: string, signal: AbortSignal) =>
  seenWhen(
    name,
    'created',
    (j, type) => (type === 'LIST' ? j !== undefined : type === 'ADDED'),
    signal,
  );

const wants = (name: string) => !ONLY || ONLY.includes(name);

it.runIf(wants('created'))(
  'process start to Job created: kubestep run vs one kubectl create -f',
  { timeout: 900_000 },
  async () => {
    const ks: number[] = [];
    const kc: number[] = [];
    for (let i = 0; i < Math.max(ROUNDS, 5); i++) {
      for (const [tool, list] of [
        ['kubestep', ks],
        ['kubectl', kc],
      ] as const) {
        const name = `created-${tool}-${i}`;
        const f = manifestFile(jobYaml(name, 'echo ok'));
        const ctl = new AbortController();
        const seen = createdSeen(name, ctl.signal);
        // The watch is open before the process starts (its list answered, the watch request sent).
        await new Promise((resolve) => setTimeout(resolve, 200));
        const started = performance.now();
        const run =
          tool === 'kubestep'
            ? ok(kubestep(['run', '-f', f, '-n', t.ns]), 'kubestep run')
            : ok(kubectlT(['create', '-f', f]), 'kubectl create');
        const at = await seen;
        ctl.abort();
        await run;
        list.push(at - started);
        if (tool === 'kubectl')
          await timed(KUBECTL, ['delete', 'job', name, '-n', t.ns, '--wait=false']);
      }
    }
    row('process start -> Job created (run vs create -f)', 'ms', '≤ 1.5×', ks, kc);
  },
);

it.runIf(wants('startup'))('start-up: kubestep --version vs kubectl version --client', async () => {
  const ks: number[] = [];
  const kc: number[] = [];
  for (let i = 0; i < Math.max(ROUNDS, 10); i++) {
    ks.push((await ok(kubestep(['--version']), 'kubestep --version')).ms);
    kc.push((await ok(timed(KUBECTL, ['version', '--client']), 'kubectl version')).ms);
  }
  row('start-up (--version / version --client)', 'ms', '≤ 150 ms', ks, kc);
});

it.runIf(wants('detection'))(
  'detection latency: Job Complete (own watch) to exit, kubestep wait vs kubectl wait',
  { timeout: 600_000 },
  async () => {
    const ks: number[] = [];
    const kc: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = `detect-${i}`;
      const f = manifestFile(jobYaml(name, 'sleep 4'));
      await ok(timed(KUBECTL, ['create', '-f', f, '-n', t.ns]), 'kubectl create');
      const ctl = new AbortController();
      const seen = completeSeen(name, ctl.signal);
      // Both wait on the same Job at the same time.
      const [a, b, at] = await Promise.all([
        ok(kubestep(['wait', `job/${name}`, '-n', t.ns]), 'kubestep wait'),
        ok(
          kubectlT(['wait', '--for=condition=complete', `job/${name}`, '--timeout=120s']),
          'kubectl wait',
        ),
        seen,
      ]);
      ctl.abort();
      ks.push(a.endedAt - at);
      kc.push(b.endedAt - at);
      await timed(KUBECTL, ['delete', 'job', name, '-n', t.ns, '--wait=false']);
    }
    row(
      'detection latency (Complete seen by a watch -> exit)',
      'ms',
      '≤ 100 ms, ≤ kubectl',
      ks,
      kc,
    );
  },
);

it.runIf(wants('overhead'))(
  'whole step for `echo ok`: kubestep run vs kubectl create + wait + logs + delete',
  { timeout: 900_000 },
  async () => {
    const ks: number[] = [];
    const kc: number[] = [];
    const rss: number[] = [];
    const anon: number[] = [];
    // The kubelet notices a container's end at its next relist (every second): single rounds
    // differ by about a second either way, so this one takes three times the rounds. Each run
    // starts after a random pause of up to a second: back to back, the rounds lock to the relist
    // (each starts a fixed time after the last one's end, which a relist set), and one tool's
    // pods kept missing it (20 of 21 kubestep rounds slow, 8 of 21 kubectl rounds, 2026-12-07).
    const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
    for (let i = 0; i < ROUNDS * 3; i++) {
      await pause();
      const a = await ok(
        kubestep(['run', '-f', manifestFile(jobYaml(`ok-ks-${i}`, 'echo ok')), '-n', t.ns]),
        'kubestep run',
      );
      expect(a.lines).toBe(1);
      ks.push(a.ms);
      rss.push(a.peakRssMiB);
      anon.push(a.peakAnonMiB);
      const name = `ok-kc-${i}`;
      const f = manifestFile(jobYaml(name, 'echo ok'));
      await pause();
      const started = performance.now();
      await ok(kubectlT(['create', '-f', f]), 'kubectl create');
      await ok(
        kubectlT(['wait', '--for=condition=complete', `job/${name}`, '--timeout=120s']),
        'kubectl wait',
      );
      const logs = await ok(kubectlT(['logs', `job/${name}`]), 'kubectl logs');
      expect(logs.lines).toBe(1);
      await ok(kubectlT(['delete', 'job', name, '--wait=true']), 'kubectl delete');
      kc.push(performance.now() - started);
    }
    row('whole step, echo ok (run vs create+wait+logs+delete)', 'ms', '≤ 0.8×', ks, kc);
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const slow = (xs: number[]) => xs.filter((x) => x > Math.min(...xs) + 500).length;
    notes.push(
      `whole step: mean ${mean(ks)} vs ${mean(kc)} ms; rounds more than 0.5 s above the fastest (a relist later): kubestep ${slow(ks)}, kubectl ${slow(kc)} of ${ks.length}`,
    );
    row('peak RSS of kubestep, echo ok', 'MiB', '≤ 64 MiB', rss);
    row(`  of which anonymous (heap, code, buffers)`, 'MiB', '', anon);
    notes.push(
      'whole step: kubestep run deletes the Job and its ended pod by name and waits for neither; kubectl delete --wait waits for the Job (Background propagation: the garbage collector deletes the pod)',
    );
  },
);

it.runIf(wants('api'))(
  'API cost: requests per Job for a 10 s and a long Job, through a counting proxy',
  { timeout: (LONG_SECONDS + 300) * 1000 },
  async () => {
    const proxy: FaultProxy = await startFaultProxy('https://127.0.0.1:6443');
    try {
      const kc = proxy.kubeconfigFor(t.kubeconfig, home);
      const counts: Record<string, number> = {};
      for (const [label, seconds] of [
        ['10 s', 10],
        [`${LONG_SECONDS} s`, LONG_SECONDS],
      ] as const) {
        const before = proxy.counts.requests;
        const routes = new Map(proxy.counts.byRoute);
        const script = `i=0; while [ $i -lt ${seconds} ]; do echo tick $i; sleep 1; i=$((i+1)); done`;
        await ok(
          kubestep(
            [
              'run',
              '-f',
              manifestFile(jobYaml(`cost-${seconds}`, script)),
              '-n',
              t.ns,
              '--timeout',
              `${seconds + 300}s`,
            ],
            { KUBECONFIG: kc },
          ),
          'kubestep run',
        );
        counts[label] = proxy.counts.requests - before;
        if (seconds === 10)
          notes.push(
            `the requests of the 10 s Job, in order: ${proxy.counts.trail
              .slice(before)
              .map(({ request }) =>
                request
                  .replace(/namespaces\/[^/]+/, 'namespaces/NS')
                  .replace(/run-id=[^&]+/, 'run-id=ID')
                  .replace(/(pods|jobs)\/[^/?]+/, '$1/NAME')
                  .replace(
                    /resourceVersion=\d+|sinceTime=[^&]+|timeoutSeconds=\d+/g,
                    (m) => `${m.split('=')[0]}=…`,
                  ),
              )
              .join(' | ')}`,
          );
        const delta = [...proxy.counts.byRoute]
          .map(
            ([r, n]) =>
              [
                r
                  .replace(/namespaces\/[^/]+/, 'namespaces/NS')
                  .replace(/(jobs|pods)\/[^/]+/, '$1/NAME'),
                n - (routes.get(r) ?? 0),
              ] as const,
          )
          .filter(([, n]) => n > 0);
        const merged = new Map<string, number>();
        for (const [r, n] of delta) merged.set(r, (merged.get(r) ?? 0) + n);
        notes.push(
          `API requests of a ${label} Job: ${[...merged].map(([r, n]) => `${n}× ${r}`).join('; ')}`,
        );
      }
      row('API requests per Job, 10 s', 'requests', '≤ 12', [counts['10 s']!]);
      row(
        `API requests per Job, ${LONG_SECONDS} s`,
        'requests',
        LONG_SECONDS <= 600 ? '≤ 16' : '+ a heartbeat per 150 s, a watch renewal per 10-20 min',
        [counts[`${LONG_SECONDS} s`]!],
      );
    } finally {
      await proxy.close();
    }
  },
);

it.runIf(wants('logs'))(
  `log throughput: ${LOG_LINES / 10} and ${LOG_LINES} lines, kubestep run vs kubectl logs -f`,
  { timeout: 3_600_000 },
  async () => {
    for (const lines of [LOG_LINES / 10, LOG_LINES]) {
      // ~100 bytes a line, as fast as the container writes.
      const script = `awk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "%09d %s\\n", i, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi" }'`;
      const ks: number[] = [];
      const kc: number[] = [];
      const rss: number[] = [];
      const anon: number[] = [];
      const got = { kubestep: [] as number[], kubectl: [] as number[] };
      for (let i = 0; i < ROUNDS; i++) {
        const a = await ok(
          kubestep([
            'run',
            '-f',
            manifestFile(jobYaml(`logs-ks-${lines}-${i}`, script)),
            '-n',
            t.ns,
            '--timeout',
            '20m',
          ]),
          'kubestep run',
        );
        // The kubelet rotates a container's log at 10 MiB and keeps 5 files: a reader slower
        // than the writer loses what was rotated away, kubectl as well. Counted, not asserted.
        got.kubestep.push(a.lines);
        ks.push(linesPerSecond(a));
        rss.push(a.peakRssMiB);
        anon.push(a.peakAnonMiB);
        const name = `logs-kc-${lines}-${i}`;
        await ok(kubectlT(['create', '-f', manifestFile(jobYaml(name, script))]), 'kubectl create');
        // Follow from the start, as a CI step would.
        const pod = await podOf(name);
        // kubectl logs -f refuses a container that is still being created: try again (≤ 60 s).
        let b = await kubectlT(['logs', '-f', pod]);
        for (let k = 0; b.code !== 0 && /waiting to start/.test(b.stderr) && k < 300; k++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          b = await kubectlT(['logs', '-f', pod]);
        }
        if (b.code !== 0) throw new Error(`kubectl logs -f exited ${b.code}: ${b.stderr}`);
        kc.push(linesPerSecond(b));
        got.kubectl.push(b.lines);
        await timed(KUBECTL, ['delete', 'job', name, '-n', t.ns, '--wait=false']);
      }
      notes.push(
        `${lines} lines: lines received per round: kubestep ${got.kubestep.join(', ')}; kubectl logs -f ${got.kubectl.join(', ')}`,
      );
      // A round in which a tool received no lines has no rate: left out of the median.
      row(
        `log throughput, ${lines} lines`,
        'lines/s',
        '≥ 1.0×',
        ks.filter((x) => x > 0),
        kc.filter((x) => x > 0),
      );
      row(`peak RSS of kubestep, ${lines} lines`, 'MiB', '≤ 100 MB, flat', rss);
      row(`  of which anonymous (heap, code, buffers)`, 'MiB', '', anon);
    }
  },
);

/** Lines per second between the first and the last line received; 0 for fewer than 2 lines. */
function linesPerSecond(r: Timed): number {
  if (r.lines < 2 || r.firstLineAt === undefined || r.lastLineAt === undefined) return 0;
  return r.lines / ((r.lastLineAt - r.firstLineAt) / 1000);
}

/** The name (`pod/NAME`) of Job `job`'s first pod, once it exists (at most 60 s). */
async function podOf(job: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const out = await kubectl(['get', 'pods', '-l', `job-name=${job}`, '-o', 'name', '-n', t.ns]);
    const pod = out.trim().split('\n')[0];
    if (pod) return pod;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no pod of job/${job} after 60 s`);
}

it.runIf(wants('scale'))(
  `scale: ${SCALE_JOBS} Jobs in one run vs one Job, and vs kubectl`,
  { timeout: 3_600_000 },
  async () => {
    const one: number[] = [];
    const many: number[] = [];
    const ctl: number[] = [];
    const rss: number[] = [];
    const requests = { one: [] as number[], many: [] as number[] };
    // kubestep's requests are counted by a proxy in front of the API server (kubectl's are not).
    const proxy = await startFaultProxy('https://127.0.0.1:6443');
    const kc = proxy.kubeconfigFor(t.kubeconfig, home);
    const counted = async <T>(into: number[], f: () => Promise<T>): Promise<T> => {
      const before = proxy.counts.requests;
      const r = await f();
      into.push(proxy.counts.requests - before);
      return r;
    };
    const script = 'i=1; while [ $i -le 100 ]; do echo "line $i"; i=$((i+1)); done; sleep 2';
    for (let i = 0; i < ROUNDS; i++) {
      const a = await counted(requests.one, () =>
        ok(
          kubestep(['run', '-f', manifestFile(jobYaml(`one-${i}`, script)), '-n', t.ns], {
            KUBECONFIG: kc,
          }),
          'kubestep run (1 Job)',
        ),
      );
      one.push(a.ms);
      const jobs = Array.from({ length: SCALE_JOBS }, (_, j) => jobYaml(`many-${i}-${j}`, script));
      const b = await counted(requests.many, () =>
        ok(
          kubestep(
            ['run', '-f', manifestFile(jobs.join('---\n')), '-n', t.ns, '--timeout', '20m'],
            { KUBECONFIG: kc },
          ),
          `kubestep run (${SCALE_JOBS} Jobs)`,
        ),
      );
      expect(b.lines).toBe(SCALE_JOBS * 100);
      many.push(b.ms);
      rss.push(b.peakRssMiB);
      // The kubectl script a pipeline would run: create all, wait for all, read each log, delete.
      const names = Array.from({ length: SCALE_JOBS }, (_, j) => `many-kc-${i}-${j}`);
      const f = manifestFile(names.map((n) => jobYaml(n, script)).join('---\n'));
      const started = performance.now();
      await ok(kubectlT(['create', '-f', f]), 'kubectl create');
      await ok(
        kubectlT([
          'wait',
          '--for=condition=complete',
          ...names.map((n) => `job/${n}`),
          '--timeout=600s',
        ]),
        'kubectl wait',
      );
      let lines = 0;
      for (const n of names)
        lines += (await ok(kubectlT(['logs', `job/${n}`]), 'kubectl logs')).lines;
      expect(lines).toBe(SCALE_JOBS * 100);
      await ok(kubectlT(['delete', '-f', f, '--wait=true']), 'kubectl delete');
      ctl.push(performance.now() - started);
    }
    row(
      `scale: ${SCALE_JOBS} Jobs, wall time (kubestep run vs kubectl script)`,
      'ms',
      'all logs complete',
      many,
      ctl,
    );
    row(`scale: ${SCALE_JOBS} Jobs vs 1 Job (kubestep), wall time`, 'ms', '', many, one);
    row(`scale: peak RSS of kubestep, ${SCALE_JOBS} Jobs`, 'MiB', '≤ 150 MiB', rss);
    row(
      `scale: API requests, ${SCALE_JOBS} Jobs vs 1 Job`,
      'requests',
      'linear in the Jobs',
      requests.many,
      requests.one,
    );
    await proxy.close();
  },
);

it.runIf(wants('artifacts'))(
  'artifacts: 100 MiB out of a finished test pod, kubestep --artifacts vs kubectl cp',
  { timeout: 3_600_000 },
  async () => {
    const MiB = 1024 * 1024;
    // Known content (lines of 37 bytes, cut at the size): its SHA-256 is computed here too.
    const content = (bytes: number) =>
      Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(Math.ceil(bytes / 37))).subarray(
        0,
        bytes,
      );
    const writer = (dir: string, bytes: number) =>
      `mkdir -p ${dir} && yes abcdefghijklmnopqrstuvwxyz0123456789 | head -c ${bytes} > ${dir}/big.bin`;
    const transfer: number[] = [];
    const step: number[] = [];
    const cp: number[] = [];
    const rss = { small: [] as number[], large: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const [size, key] of [
        [MiB, 'small'],
        [100 * MiB, 'large'],
      ] as const) {
        const dir = mkdtempSync(join(tmpdir(), 'kubestep-bench-artifacts-'));
        const name = `art-ks-${key}-${i}`;
        const a = await ok(
          kubestep([
            'run',
            '-f',
            manifestFile(jobYaml(name, writer('$ARTIFACTS', size))),
            '-n',
            t.ns,
            '--artifacts',
            dir,
            '--artifacts-image',
            'kubestep:local',
            '--verbose',
          ]),
          'kubestep run --artifacts',
        );
        const ms = /through pods\/proxy in (\d+) ms/.exec(a.stderr)?.[1];
        if (ms === undefined) throw new Error(`no direct transfer: ${a.stderr.slice(-2000)}`);
        const pod = /artifacts of pod\/(\S+): 1 file/.exec(a.stderr)?.[1];
        const got = readFileSync(join(dir, name, pod ?? '?', 'big.bin'));
        expect(got.equals(content(size)), 'byte-identical').toBe(true);
        rss[key].push(a.peakRssMiB);
        if (key === 'large') {
          transfer.push(Number(ms));
          step.push(a.ms);
        }
      }
      // The kubectl way: a pod kept alive after its tests, `kubectl cp` (exec + tar in the image;
      // pods/exec, which kubestep's Roles do not grant: the cluster admin's kubeconfig).
      const admin = (args: string[]) =>
        timed(KUBECTL, ['-n', t.ns, ...args], { KUBECONFIG: process.env.KUBECONFIG ?? '' });
      const name = `art-kc-${i}`;
      const script = `${writer('/tmp/out', 100 * MiB)} && touch /tmp/done && sleep 600`;
      await ok(kubectlT(['create', '-f', manifestFile(jobYaml(name, script))]), 'kubectl create');
      const pod = (await podOf(name)).replace(/^pod\//, '');
      let ready = false;
      for (let k = 0; k < 300 && !ready; k++) {
        ready = (await admin(['exec', pod, '--', 'test', '-f', '/tmp/done'])).code === 0;
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (!ready) throw new Error(`${name}: the file was not written within 60 s`);
      const dest = mkdtempSync(join(tmpdir(), 'kubestep-bench-cp-'));
      const b = await ok(admin(['cp', `${t.ns}/${pod}:/tmp/out`, join(dest, 'out')]), 'cp');
      expect(readFileSync(join(dest, 'out/big.bin')).equals(content(100 * MiB))).toBe(true);
      cp.push(b.ms);
      await timed(KUBECTL, ['delete', 'job', name, '-n', t.ns, '--wait=false']);
    }
    row('artifacts, 100 MiB: transfer (pods/proxy vs kubectl cp)', 'ms', '', transfer, cp);
    row('artifacts, 100 MiB: whole kubestep run --artifacts', 'ms', '', step);
    row('peak RSS of kubestep, 1 MiB of artifacts', 'MiB', '', rss.small);
    row('peak RSS of kubestep, 100 MiB of artifacts', 'MiB', 'flat', rss.large);
  },
);

it.runIf(wants('deploy'))(
  'deploy: apply to verdict, kubestep deploy vs kubectl apply + rollout status (good, crash, unpullable image)',
  { timeout: 1_800_000 },
  async () => {
    // The same Deployment shape for both tools, each its own Deployment. progressDeadlineSeconds
    // is 60 s here to keep the bench short: kubectl rollout status waits for it (600 s by default).
    const deadline = 60;
    const app = (name: string, image: string, command: string) =>
      manifestFile(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 2
  progressDeadlineSeconds: ${deadline}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: ${image}
          imagePullPolicy: Never
          command: ["sh", "-c", ${JSON.stringify(command)}]
          readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
`);
    const good = (v: number) => `echo v${v}; sleep 3600`;
    const cases = [
      { name: 'good', image: 'busybox:local', command: (v: number) => good(v), code: 0 },
      { name: 'crash', image: 'busybox:local', command: () => 'echo fatal; exit 3', code: 1 },
      { name: 'pull', image: 'busybox:nope', command: (v: number) => good(v), code: 3 },
    ];
    const rounds = Math.min(ROUNDS, 3);
    for (const c of cases) {
      const ks: number[] = [];
      const kc: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const v = 10 * i + 2;
        // Both start from a rolled-out first version, each applied by its own tool.
        await ok(
          kubestep(['deploy', '-f', app('dep-ks', 'busybox:local', good(v - 1)), '-n', t.ns]),
          'v1',
        );
        await ok(kubectlT(['apply', '-f', app('dep-kc', 'busybox:local', good(v - 1))]), 'v1');
        await ok(kubectlT(['rollout', 'status', 'deployment/dep-kc', '--timeout=120s']), 'v1');
        const a = await kubestep([
          'deploy',
          '-f',
          app('dep-ks', c.image, c.command(v)),
          '-n',
          t.ns,
        ]);
        expect(a.code, a.stderr).toBe(c.code);
        ks.push(a.ms);
        const started = performance.now();
        await ok(kubectlT(['apply', '-f', app('dep-kc', c.image, c.command(v))]), 'apply');
        const b = await kubectlT(['rollout', 'status', 'deployment/dep-kc', '--timeout=300s']);
        expect(b.code === 0, b.stderr).toBe(c.code === 0);
        kc.push(performance.now() - started);
      }
      row(
        `deploy, ${c.name}: apply to verdict (deploy vs apply + rollout status)`,
        'ms',
        c.code === 0 ? '≤ kubectl' : '≪ progress deadline',
        ks,
        kc,
      );
    }
    notes.push(
      `deploy rows: progressDeadlineSeconds ${deadline} s (kubectl rollout status waits for it on a crash or a pull failure; 600 s by default); kubestep fails on the new revision's pods`,
    );
  },
);
