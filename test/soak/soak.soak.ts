// `npm run soak`: repeated kubestep runs through the fault proxy for SOAK_MINUTES (default 30),
// sampling the kubestep process's resident memory and open sockets (from /proc) to show that
// neither grows. Not part of CI (it takes half an hour); its figures go into the issue notes.
// Part A: one long run that follows a Job of many pods, one after another (growth within a
// process). Part B: short runs back to back (growth across runs, connections left open).
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../fault-proxy.js';
import { manifestFile, runCli, useTestNamespace } from '../harness.js';

const t = useTestNamespace('soak');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
let proxy: FaultProxy;
let kubeconfig: string;

beforeAll(async () => {
  proxy = await startFaultProxy('https://127.0.0.1:6443');
  kubeconfig = proxy.kubeconfigFor(t.kubeconfig, mkdtempSync(join(tmpdir(), 'kubestep-soak-')));
  proxy.set({
    watchDropAfterMs: 5_000,
    errorEvery: 10,
    errorStatuses: [500, 429, 503],
    retryAfterSeconds: 1,
    logCutBytes: 16 * 1024,
  });
});
afterAll(async () => {
  await proxy?.close();
});

/** Resident memory (MiB) and open sockets of process `pid`, or undefined once it is gone. */
function sample(pid: number): { rssMiB: number; sockets: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
      } catch {
        // closed meanwhile
      }
    }
    return { rssMiB: rssKiB / 1024, sockets };
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};
const fmt = (n: number) => n.toFixed(1);

/** Runs kubestep through the proxy, sampling it every `everyMs`; returns result and samples. */
async function sampledRun(args: string[], everyMs: number, timeoutMs: number) {
  const samples: { atMs: number; rssMiB: number; sockets: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  const r = await runCli([...args, '-n', t.ns], {
    env: { KUBECONFIG: kubeconfig },
    timeoutMs,
    onOutput: (_text, child) => {
      if (timer || !child.pid) return;
      const pid = child.pid;
      timer = setInterval(() => {
        const s = sample(pid);
        if (s) samples.push({ atMs: Date.now() - started, ...s });
      }, everyMs);
    },
  });
  clearInterval(timer);
  return { r, samples };
}

/** A Job of `completions` pods, 2 at a time, each printing 50 numbered lines a second for 20 s. */
const manyPods = (completions: number, deadlineSeconds: number) => `apiVersion: batch/v1
kind: Job
metadata: {name: "soak-\${RUN_ID}"}
spec:
  completions: ${completions}
  parallelism: 2
  backoffLimit: 0
  activeDeadlineSeconds: ${deadlineSeconds}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "awk 'BEGIN { for (i = 1; i <= 1000; i++) { printf \\"line %d\\\\n\\", i; if (i % 50 == 0) { fflush(); system(\\"sleep 1\\") } } }'"]
`;

it(
  `${MINUTES} minutes of runs through faults: RSS and open sockets do not grow`,
  { timeout: (MINUTES + 10) * 60_000 },
  async () => {
    const half = (MINUTES * 60) / 2;
    // Part A: one process, a Job whose pods run one after another (2 at a time) for half the time.
    const pods = Math.floor(half / 22) * 2;
    const a = await sampledRun(
      [
        'run',
        '-f',
        manifestFile(manyPods(pods, Math.round(half + 60))),
        '--timeout',
        `${Math.round(half + 120)}s`,
      ],
      10_000,
      (half + 300) * 1000,
    );
    expect(a.r.code, a.r.stderr.slice(-3000)).toBe(0);
    const lines = a.r.stdout.split('\n').filter((l) => /\] line \d+$/.test(l)).length;
    expect(lines).toBe(pods * 1000);
    const minute = 60_000;
    const firstA = a.samples.filter((s) => s.atMs >= minute && s.atMs < 4 * minute);
    const lastA = a.samples.slice(-18);
    console.log(`A: one run, ${pods} pods, ${lines} lines, ${a.samples.length} samples`);
    console.log('A: minute  RSS MiB  sockets');
    for (let m = 0; m * minute <= (a.samples.at(-1)?.atMs ?? 0); m += 2) {
      const at = a.samples.filter((s) => s.atMs >= m * minute && s.atMs < (m + 1) * minute);
      if (at.length > 0)
        console.log(
          `A: ${String(m).padStart(6)}  ${fmt(median(at.map((s) => s.rssMiB))).padStart(7)}  ${String(median(at.map((s) => s.sockets))).padStart(7)}`,
        );
    }
    // Part B: short runs back to back for the other half.
    const job = manifestFile(manyPods(1, 120).replace('i <= 1000', 'i <= 100'));
    const runs: { peakMiB: number; maxSockets: number; code: number | null; openAfter: number }[] =
      [];
    const end = Date.now() + half * 1000;
    for (let i = 0; Date.now() < end && i < 1000; i++) {
      const b = await sampledRun(['run', '-f', job], 500, 120_000);
      // The proxy hears of connections closed by the exit a moment later.
      await new Promise((resolve) => setTimeout(resolve, 500));
      runs.push({
        peakMiB: Math.max(...b.samples.map((s) => s.rssMiB)),
        maxSockets: Math.max(...b.samples.map((s) => s.sockets)),
        code: b.r.code,
        openAfter: proxy.openSockets(),
      });
    }
    const firstB = runs.slice(0, 5);
    const lastB = runs.slice(-5);
    console.log(
      `B: ${runs.length} runs, exit codes ${[...new Set(runs.map((r) => r.code))].join(',')}`,
    );
    console.log(
      `B: peak RSS MiB first 5 runs ${firstB.map((r) => fmt(r.peakMiB)).join(' ')}; last 5 ${lastB.map((r) => fmt(r.peakMiB)).join(' ')}`,
    );
    console.log(
      `B: max sockets first 5 ${firstB.map((r) => r.maxSockets).join(' ')}; last 5 ${lastB.map((r) => r.maxSockets).join(' ')}; connections open at the proxy after each run: max ${Math.max(...runs.map((r) => r.openAfter))}`,
    );
    console.log(`faults injected: ${JSON.stringify({ ...proxy.counts, byRoute: undefined })}`);

    // No growth: the last samples stay within 25% (RSS) and +2 (sockets) of the first ones.
    const rssFirst = median(firstA.map((s) => s.rssMiB));
    const rssLast = median(lastA.map((s) => s.rssMiB));
    console.log(
      `A: RSS median of samples 10-30% ${fmt(rssFirst)} MiB, last 20% ${fmt(rssLast)} MiB`,
    );
    expect(rssLast).toBeLessThan(rssFirst * 1.25);
    expect(median(lastA.map((s) => s.sockets))).toBeLessThanOrEqual(
      median(firstA.map((s) => s.sockets)) + 2,
    );
    expect(runs.every((r) => r.code === 0)).toBe(true);
    expect(median(lastB.map((r) => r.peakMiB))).toBeLessThan(
      median(firstB.map((r) => r.peakMiB)) * 1.25,
    );
    expect(Math.max(...runs.map((r) => r.openAfter))).toBeLessThanOrEqual(0);
  },
);
