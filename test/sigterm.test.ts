// SIGTERM at random moments of a run with dependencies (creating, waiting for readiness, the
// Job starting, logs streaming, cleaning up): exit 143 and nothing of the run left. The moments
// come from a seeded generator; the seed is printed, and KUBESTEP_TEST_SEED=N repeats them.
import { expect, it } from 'vitest';
import { jobYaml, manifestFile, objectsOf, runCli, until, useTestNamespace } from './harness.js';

const t = useTestNamespace('sigterm');

const DEPS = `apiVersion: v1
kind: ConfigMap
metadata: {name: "settings-\${RUN_ID}"}
data: {mode: test}
---
apiVersion: v1
kind: Pod
metadata:
  name: "db-\${RUN_ID}"
  labels: {app: db, run: "\${RUN_ID}"}
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: db
      image: busybox:local
      imagePullPolicy: Never
      command: ["sleep", "3600"]
      readinessProbe:
        exec: {command: ["true"]}
        initialDelaySeconds: 1
        periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: "db-\${RUN_ID}"}
spec:
  selector: {app: db, run: "\${RUN_ID}"}
  ports: [{port: 5432}]
`;

const JOB = jobYaml('"suite-${RUN_ID}"', 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done');

/** `kubestep run` of JOB with DEPS as run `id` in the test namespace. */
const runArgs = (id: string) => [
  'run',
  '-f',
  manifestFile(JOB),
  '--deps',
  manifestFile(DEPS, 'deps.yaml'),
  '-n',
  t.ns,
  '--run-id',
  id,
];

/** mulberry32: a small seeded generator of numbers in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where in a run a SIGTERM lands: after this output, plus up to `spreadMs`. */
const MOMENTS = [
  { phase: 'creating', after: 'kubestep: run ', spreadMs: 400 },
  { phase: 'waiting for readiness', after: 'created configmap/', spreadMs: 1500 },
  { phase: 'Job starting', after: 'created job/', spreadMs: 1000 },
  { phase: 'streaming', after: 'tick 1', spreadMs: 1500 },
  { phase: 'cleaning up', after: 'deleting job/', spreadMs: 300 },
] as const;

/**
 * `n` runs, each to be signalled at a moment of MOMENTS (in turn) plus a random delay from a
 * seeded generator (KUBESTEP_TEST_SEED, else the clock); prints the seed and the plan.
 */
function planOf(prefix: string, n: number) {
  const seed = Number(process.env.KUBESTEP_TEST_SEED ?? Date.now() % 1_000_000);
  const random = seeded(seed);
  const plan = Array.from({ length: n }, (_, i) => {
    const m = MOMENTS[i % MOMENTS.length]!;
    return { id: `${prefix}-${i}`, ...m, delayMs: Math.round(random() * m.spreadMs), seed };
  });
  console.log(
    `seed ${seed}: ${plan.map((p) => `${p.id} ${p.delayMs} ms after "${p.after}"`).join('; ')}`,
  );
  return plan;
}

/** Runs kubestep for `id`, sending `sig` `delayMs` after the output first contains `after`. */
async function signalledRun(
  p: ReturnType<typeof planOf>[number],
  sig: NodeJS.Signals,
  extra: string[],
) {
  let armed = false;
  let sentAfter = '';
  let seen = '';
  const r = await runCli([...runArgs(p.id), ...extra], {
    onOutput: (text, child) => {
      seen += text;
      if (armed || !seen.includes(p.after)) return;
      armed = true;
      setTimeout(() => {
        // The last line printed before the signal: the phase it hit.
        sentAfter = seen.trimEnd().split('\n').at(-1) ?? '';
        child.kill(sig);
      }, p.delayMs);
    },
  });
  return { p, r, sentAfter };
}

it('SIGTERM at 10 random moments: exit 143 and nothing of the run left', async () => {
  const plan = planOf('term', 10);
  const results = await Promise.all(
    plan.map((p) => signalledRun(p, 'SIGTERM', ['--grace', '20s'])),
  );
  for (const { p, r, sentAfter } of results) {
    console.log(`${p.id} (${p.phase}): SIGTERM after "${sentAfter}" -> exit ${r.code}`);
  }
  for (const { p, r } of results) {
    const what = `${p.id} (${p.phase}, ${p.delayMs} ms after "${p.after}", seed ${p.seed})`;
    expect(r.code, `${what}\n${r.stderr}`).toBe(143);
    expect(r.stderr, what).toMatch(/SIGTERM: stopping and deleting what this run created/);
    // Before the result: the run is cancelled. During cleanup: the result stands, the exit code
    // says that the step was stopped.
    expect(r.stderr, what).toMatch(
      /CANCELLED by SIGTERM|PASSED: the Job is Complete\nkubestep: exit 143 \(not 0\): SIGTERM arrived before the run had finished its cleanup/,
    );
    // Every deletion was requested. (A pod deleted while its container starts can take the
    // kubelet 5-10 s alone, more with 10 runs at once: then kubestep says so and goes.)
    for (const w of r.stderr.split('\n').filter((l) => l.includes('warning')))
      expect(w, what).toMatch(
        /warning: cleanup: not all gone after --grace 20 s \(deletion was requested/,
      );
  }
  // What is still terminating goes within the kubelet's time. A pod deleted while its container
  // starts can take the 1.20 kubelet 30-80 s with 10 at once ("cannot find volume
  // default-token-… to mount", then its sync back-off; measured: 45 s and 83 s): 150 s.
  for (const { p } of results) {
    await until(
      async () => (await objectsOf(t.client, t.ns, p.id)).length === 0,
      150_000,
      `every object of ${p.id} to be gone`,
    );
  }
  expect((await Promise.all(plan.map((p) => objectsOf(t.client, t.ns, p.id)))).flat()).toEqual([]);
}, 300_000);

it('SIGKILL at 5 random moments: the next run sweeps what the killed runs left', async () => {
  const plan = planOf('kill', 5);
  const killed = await Promise.all(
    plan.map((p) => signalledRun(p, 'SIGKILL', ['--heartbeat-lease', '3s'])),
  );
  for (const { p, r, sentAfter } of killed) {
    console.log(`${p.id} (${p.phase}): SIGKILL after "${sentAfter}" -> ${r.signal ?? r.code}`);
    expect(r.signal, `${p.id}: ${r.stderr}`).toBe('SIGKILL');
  }
  // Heartbeats were renewed by at most 3 s: after 4 s every killed run is over for the sweep.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const next = await runCli(runArgs('after-kills'));
  expect(next.code, next.stderr).toBe(0);
  expect(next.stderr).toMatch(/sweep: deleted .* of earlier run kill-\d \(it is over\)/);
  const left = async () =>
    (await Promise.all(plan.map((p) => objectsOf(t.client, t.ns, p.id)))).flat();
  // A pod deleted while its container starts can take the 1.20 kubelet 30-80 s (see above).
  const sweptFrom = Date.now();
  await until(
    async () => (await left()).length === 0,
    150_000,
    'the killed runs to be swept',
  ).catch(async (e: Error) => {
    throw new Error(`${e.message}; still there: ${(await left()).join(', ')}`);
  });
  console.log(`everything of the killed runs gone ${Date.now() - sweptFrom} ms after the sweep`);
  expect(await left()).toEqual([]);
  expect(await objectsOf(t.client, t.ns, 'after-kills')).toEqual([]);
}, 300_000);
