// Cut connections: every line printed exactly once, in order, though the API server's answers are
// cut every 64 KiB (log streams while the container runs and after it ended, watches, lists).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCutProxy, type CutProxy } from './cut-proxy.js';
import { jobYaml, manifestFile, names, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('cut');
let byAge: CutProxy;
let byBytes: CutProxy;
let kubeconfigByAge: string;
let kubeconfigByBytes: string;

beforeAll(async () => {
  // The same kubeconfig, with the server address pointing at the proxy.
  const original = readFileSync(process.env.KUBECONFIG!, 'utf8');
  const server = /server: *(https:\/\/127\.0\.0\.1):(\d+)/.exec(original);
  if (!server) throw new Error('expected the k8s-local kubeconfig (server https://127.0.0.1:PORT)');
  const target = { host: '127.0.0.1', port: Number(server[2]) };
  byAge = await startCutProxy(target, { lifetimeMs: 1500 });
  byBytes = await startCutProxy(target, { limitBytes: 64 * 1024 });
  const via = (p: CutProxy) =>
    manifestFile(original.replace(server[0], `server: ${server[1]}:${p.port}`), 'kubeconfig');
  kubeconfigByAge = via(byAge);
  kubeconfigByBytes = via(byBytes);
});
afterAll(async () => {
  await byAge.close();
  await byBytes.close();
});

it('prints 20,000 lines exactly once, in order, through connections cut every 1.5 s', async () => {
  // 40 bursts of 500 lines, 0.5 s apart, ~20 s: every connection (log stream, watch) is reset
  // after 1.5 s, so the log stream is cut and reopened about 13 times while the container runs.
  const script =
    'for i in $(seq 0 39); do seq $((i*500+1)) $((i*500+500)); sleep 0.5; done; sleep 1';
  const cutsBefore = byAge.cuts();
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('cut', script)),
    '-n',
    t.ns,
    '--kubeconfig',
    kubeconfigByAge,
    '-v',
  ]);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.length).toBe(20_000);
  expect(lines.findIndex((l, i) => l !== String(i + 1))).toBe(-1);
  expect(byAge.cuts() - cutsBefore).toBeGreaterThanOrEqual(10);
  expect(r.stderr.match(/log stream cut .*reopening from/g)?.length).toBeGreaterThanOrEqual(5);
  expect(r.stderr).toMatch(/log stream cut .*; reopening from 20\d\d-/);
  expect(r.stderr).not.toContain('missing');
  expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
});

it('prints every line once, in order, when one second of log is more than a connection carries', async () => {
  // 2,000 lines (~74 KB with timestamps) a second through connections reset after 64 KiB: the
  // API resumes with one-second precision (sinceTime), so a reopened stream is cut again inside
  // the same second. kubestep says so, waits for the container to end, and reads the rest by
  // position (tailLines and limitBytes).
  const script = 'for i in $(seq 0 9); do seq $((i*2000+1)) $((i*2000+2000)); sleep 1; done';
  const resultFile = manifestFile('', 'result.json');
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('fast', script)),
    '-n',
    t.ns,
    '--kubeconfig',
    kubeconfigByBytes,
    '--output',
    'json',
    '--output-file',
    resultFile,
  ]);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  expect(r.stderr).toMatch(
    /\[pod\/fast-\w+\/main\] the log stream was cut 5 times in a row before it got past 20\S+Z \(more log in one second than the connection carries\); the rest of this container's log follows once it has ended/,
  );
  const lines = r.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.length, r.stderr.slice(-3000)).toBe(20_000);
  expect(lines.findIndex((l, i) => l !== String(i + 1))).toBe(-1);
  expect(r.stderr).not.toMatch(/could not be read|missing/);
  const result = JSON.parse(readFileSync(resultFile, 'utf8')) as {
    jobs: { pods: { containers: { name: string; logLines: number; logLinesLost: number }[] }[] }[];
  };
  expect(result.jobs[0]!.pods[0]!.containers[0]).toMatchObject({
    name: 'main',
    logLines: 20_000,
    logLinesLost: 0,
  });
});

/** The pieces of one long line of 'a's: each but the last marked; returns the 'a's counted. */
function longLine(lines: string[]): number {
  let count = 0;
  lines.forEach((l, i) => {
    const last = i === lines.length - 1;
    expect(l.endsWith(' [line continues]'), `piece ${i} of ${lines.length}`).toBe(!last);
    const text = last ? l : l.slice(0, -' [line continues]'.length);
    expect(text.length).toBeLessThanOrEqual(1024 * 1024);
    expect(/^a*$/.test(text), `piece ${i}: only the container's bytes`).toBe(true);
    count += text.length;
  });
  return count;
}

it('passes an 8 MiB line without a newline on in 1 MiB pieces, every byte once', async () => {
  // Under the kubelet's 10 MiB log rotation (containerLogMaxSize): a longer line can be rotated
  // away before any reader attached (README, Known limits).
  const script = "head -c 8388608 /dev/zero | tr '\\0' a; sleep 1";
  const r = await runCli(['run', '-f', manifestFile(jobYaml('long', script)), '-n', t.ns]);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.length).toBeGreaterThanOrEqual(8);
  expect(longLine(lines)).toBe(8 * 1024 * 1024);
});

it('prints the rest of a long line whose log stream was cut inside it, once', async () => {
  // 8 MiB in one line over ~4 s through connections reset every 1.5 s: the stream is cut
  // inside the line, and the reopened one repeats it from its start.
  const script =
    "for i in $(seq 8); do head -c 1048576 /dev/zero | tr '\\0' a; sleep 0.5; done; echo; echo end; sleep 1";
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('cutlong', script)),
    '-n',
    t.ns,
    '--kubeconfig',
    kubeconfigByAge,
    '-v',
  ]);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  expect(r.stderr).toMatch(/log stream cut .*reopening from/);
  const lines = r.stdout.split('\n');
  expect(lines.pop()).toBe('');
  expect(lines.pop()).toBe('end');
  expect(longLine(lines)).toBe(8 * 1024 * 1024);
});
