// Retried pods: every attempt's log is mirrored.
import { expect, it } from 'vitest';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('retry');

it('shows the logs of all 3 pods of a Job with backoffLimit 2', async () => {
  // Kubernetes 1.20 waits 10 s, then 20 s between attempts: about 35 s in all.
  const f = manifestFile(
    jobYaml('retried', 'echo "attempt on $(hostname)"; exit 5', { backoffLimit: 2 }),
  );
  const r = await runCli(['run', '-f', f, '-n', t.ns]);
  expect(r.code).toBe(1);
  const attempts = r.stdout.trim().split('\n');
  expect(attempts).toHaveLength(3);
  const pods = new Set<string>();
  for (const line of attempts) {
    const m = /^\[pod\/(retried-\w+)\/main\] attempt on (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(m![2]).toBe(m![1]);
    pods.add(m![1]!);
  }
  expect(pods.size).toBe(3);
  expect(r.stderr).toMatch(
    /job\/retried +Failed +\S+ s +3 +3 +failed 3 attempts \(backoffLimit 2\)/,
  );
  expect(r.stderr.match(/main: exit 5/g)).toHaveLength(3);
});
