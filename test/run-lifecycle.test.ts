// Stale and conflicting Jobs, the cleanup of test pods, and SIGTERM in the middle of a run.
import { describe, expect, it } from 'vitest';
import { JOBS } from '../src/kube/resources.js';
import type { Job } from '../src/kube/types.js';
import {
  accountWithRules,
  jobYaml,
  manifestFile,
  names,
  objectsIn,
  rbacRules,
  runCli,
  until,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('life');

const getJob = (name: string) => t.client.get<Job>(JOBS, t.ns, name, AbortSignal.timeout(10_000));

describe('stale Jobs', () => {
  it('replaces a finished Job of the same name left by an earlier run', async () => {
    const f = manifestFile(jobYaml('stale', 'echo run ${RUN_ID}'));
    const first = await runCli([
      'run',
      '-f',
      f,
      '-n',
      t.ns,
      '--run-id',
      'first',
      '--cleanup',
      'never',
    ]);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('keeping 1 objects (--cleanup never): job/stale');
    const old = await getJob('stale');
    expect(old?.metadata?.labels?.['kubestep.dev/run-id']).toBe('first');

    // Without the sweep (which would delete it first: gc-sweep.test.ts), the name check does.
    const second = await runCli(['run', '-f', f, '-n', t.ns, '--run-id', 'second', '--no-sweep']);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/replacing job\/stale \(complete, run first\)/);
    expect(second.stdout).toBe('run second\n');
    expect(await getJob('stale')).toBeUndefined();
  });

  it('refuses to touch a running Job of another run (exit 3) unless --replace', async () => {
    const running = manifestFile(jobYaml('busy', 'sleep 300'));
    const other = await runCli([
      'run',
      '-f',
      running,
      '-n',
      t.ns,
      '--run-id',
      'other',
      '--cleanup',
      'never',
      '--timeout',
      '3s',
    ]);
    // The other run timed out (exit 1) and kept its Job running.
    expect(other.code).toBe(1);
    const busy = await getJob('busy');
    expect(busy?.status?.active).toBe(1);

    const f = manifestFile(jobYaml('busy', 'echo mine'));
    const refused = await runCli(['run', '-f', f, '-n', t.ns, '--run-id', 'mine']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /job\/busy in namespace \S+ is still running \(run other, created .*\): .*--replace/,
    );
    expect((await getJob('busy'))?.metadata?.uid).toBe(busy?.metadata?.uid);

    // Replacing waits for the old pod to go: with ten SIGTERM runs in the other test file the
    // kubelet once needed more than the default --grace 30 s for it (busy 2-core CI machine).
    const replaced = await runCli([
      'run',
      '-f',
      f,
      '-n',
      t.ns,
      '--run-id',
      'mine',
      '--replace',
      '--grace',
      '90s',
    ]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).toMatch(/replacing job\/busy \(running, run other\)/);
    expect(replaced.stdout).toBe('mine\n');
  });
});

describe('cleanup of test pods', () => {
  it('without delete on pods, leaves them to the garbage collector: gone at exit, no warning', async () => {
    // deploy/rbac.yaml without `delete` on pods: kubestep's own pod deletion is refused (403).
    const rules = rbacRules().map((r) =>
      r.resources.includes('pods') ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') } : r,
    );
    const kubeconfig = await accountWithRules(t.client, t.ns, 'no-pod-delete', rules);
    const f = manifestFile(jobYaml('gc-pods', 'echo gc-pods-line'));
    const r = await runCli(['run', '-f', f, '-n', t.ns], { env: { KUBECONFIG: kubeconfig } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('gc-pods-line\n');
    expect(r.stderr).not.toContain('warning');
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs).filter((n) => n?.startsWith('gc-pods'))).toEqual([]);
    expect(names(left.pods).filter((n) => n?.startsWith('gc-pods'))).toEqual([]);
  });
});

describe('SIGTERM', () => {
  it('stops, deletes the Job and its pods, and exits 143', async () => {
    const f = manifestFile(jobYaml('term', 'echo started; sleep 300'));
    let sent = false;
    const r = await runCli(['run', '-f', f, '-n', t.ns], {
      onOutput: (text, child) => {
        // Signal once the pod is running and its first line was mirrored.
        if (!sent && text.includes('started')) {
          sent = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain('SIGTERM: stopping and deleting');
    expect(r.stderr).toContain('CANCELLED by SIGTERM');
    // The Job is gone at exit (Background deletion; kubestep deletes its pods itself), and its
    // pods go within the kubelet's grace period.
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs)).not.toContain('term');
    await until(
      async () =>
        (await objectsIn(t.client, t.ns)).pods.every((p) => !p.metadata?.name?.startsWith('term-')),
      30_000,
      'pods of job/term to go',
    );
  });
});

describe('SIGINT', () => {
  it('stops, cleans up and exits 130; a second SIGINT exits at once', async () => {
    const f = manifestFile(jobYaml('int', 'echo started; sleep 300'));
    let sent = 0;
    const once = await runCli(['run', '-f', f, '-n', t.ns], {
      onOutput: (text, child) => {
        if (sent === 0 && text.includes('started')) {
          sent = 1;
          child.kill('SIGINT');
        }
      },
    });
    expect(once.code).toBe(130);
    expect(once.stderr).toContain('CANCELLED by SIGINT');
    expect(names((await objectsIn(t.client, t.ns)).jobs)).not.toContain('int');

    let signals = 0;
    const twice = await runCli(['run', '-f', f, '-n', t.ns, '--grace', '2m'], {
      onOutput: (text, child) => {
        // First SIGINT when the pod runs; the second as soon as kubestep says it is cleaning up.
        if (signals === 0 && text.includes('started')) {
          signals = 1;
          child.kill('SIGINT');
        } else if (signals === 1 && text.includes('stopping and deleting')) {
          signals = 2;
          child.kill('SIGINT');
        }
      },
    });
    expect(signals).toBe(2);
    expect(twice.code).toBe(130);
    expect(twice.stderr).toContain('SIGINT again: exiting now without waiting for cleanup');
    expect(twice.stderr).not.toContain('CANCELLED');
  });
});
