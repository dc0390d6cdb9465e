// The GitHub Action's entry (action.yml runs `kubestep github-action` in the image): inputs from
// INPUT_* variables, outputs to $GITHUB_OUTPUT, exit code of the Jobs. Run here with the bundle,
// as GitHub runs the container: inputs in the environment, the workspace as working directory.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobYaml, objectsIn, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('action');

/** A workspace with the manifests, and the files GitHub gives a step. */
function workspace(): { dir: string; output: string; summary: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubestep-workspace-'));
  writeFileSync(join(dir, 'pass.yaml'), jobYaml('gha-pass', 'echo hello from ${GREETING}'));
  writeFileSync(join(dir, 'fail.yaml'), jobYaml('gha-fail', 'echo failing; exit 6'));
  const output = join(dir, 'github_output');
  const summary = join(dir, 'step_summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  return { dir, output, summary };
}

const outputsOf = (file: string) =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('kubestep github-action', () => {
  it('runs the manifests input with a kubeconfig given as content; outputs result and summary-json', async () => {
    const ws = workspace();
    const r = await runCli(['github-action'], {
      env: {
        KUBECONFIG: '',
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: ws.output,
        GITHUB_STEP_SUMMARY: ws.summary,
        GITHUB_WORKSPACE: ws.dir,
        INPUT_COMMAND: 'run',
        INPUT_MANIFESTS: join(ws.dir, 'pass.yaml'),
        INPUT_NAMESPACE: t.ns,
        INPUT_KUBECONFIG: readFileSync(t.kubeconfig, 'utf8'),
        INPUT_SET: 'GREETING=the action',
        INPUT_DEPS: '',
        'INPUT_CLOUD-LOGGING': '',
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hello from the action');
    const out = outputsOf(ws.output);
    expect(out.result).toBe('passed');
    const summary = JSON.parse(out['summary-json']!) as {
      exitCode: number;
      jobs: { name: string; outcome: string }[];
    };
    expect(summary.exitCode).toBe(0);
    expect(summary.jobs.map((j) => [j.name, j.outcome])).toEqual([['gha-pass', 'Complete']]);
    expect(readFileSync(ws.summary, 'utf8')).toContain('gha-pass');
  });

  it('a failing Job: exit 1, result failed; a bad input: exit 2, result error', async () => {
    const ws = workspace();
    const base = {
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: ws.output,
      INPUT_NAMESPACE: t.ns,
      INPUT_KUBECONFIG: t.kubeconfig,
    };
    const failed = await runCli(['github-action'], {
      env: { ...base, INPUT_MANIFESTS: join(ws.dir, 'fail.yaml') },
    });
    expect(failed.code, failed.stderr).toBe(1);
    expect(outputsOf(ws.output).result).toBe('failed');
    writeFileSync(ws.output, '');
    const bad = await runCli(['github-action'], {
      env: { ...base, INPUT_MANIFESTS: join(ws.dir, 'missing.yaml') },
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('missing.yaml');
    expect(outputsOf(ws.output).result).toBe('error');
    const { jobs } = await objectsIn(t.client, t.ns);
    expect(jobs.filter((j) => j.metadata?.name?.startsWith('gha-'))).toEqual([]);
  });

  it('artifacts and junit-report inputs land in the workspace; $KUBESTEP_OUTPUT values and a termination message reach the step outputs', async () => {
    const ws = workspace();
    const script = [
      'mkdir -p $ARTIFACTS/shots && echo png > $ARTIFACTS/shots/home.png',
      'echo IMAGE=gcr.io/p/app:7 >> $KUBESTEP_OUTPUT',
      "printf 'NOTES<<EOF\\nline 1\\nline 2\\nEOF\\n' >> $KUBESTEP_OUTPUT",
      'echo migrated to v42 > /dev/termination-log',
    ].join('; ');
    writeFileSync(join(ws.dir, 'values.yaml'), jobYaml('gha-values', script));
    const r = await runCli(['github-action'], {
      cwd: ws.dir,
      env: {
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: ws.output,
        GITHUB_STEP_SUMMARY: ws.summary,
        GITHUB_WORKSPACE: ws.dir,
        INPUT_MANIFESTS: 'values.yaml',
        INPUT_NAMESPACE: t.ns,
        INPUT_KUBECONFIG: t.kubeconfig,
        INPUT_ARTIFACTS: 'out/artifacts',
        'INPUT_JUNIT-REPORT': 'out/junit.xml',
        INPUT_ARGS: '--artifacts-image kubestep:local',
      },
    });
    expect(r.code, r.stderr).toBe(0);
    const [pod] = readdirSync(join(ws.dir, 'out/artifacts/gha-values'));
    expect(
      readFileSync(join(ws.dir, 'out/artifacts/gha-values', pod!, 'shots/home.png'), 'utf8'),
    ).toBe('png\n');
    expect(readFileSync(join(ws.dir, 'out/junit.xml'), 'utf8')).toContain('name="job/gha-values"');
    const text = readFileSync(ws.output, 'utf8');
    // Each value in GitHub's heredoc form, with a random delimiter the value cannot hold.
    expect(text).toMatch(/^IMAGE<<(kubestep_[0-9a-f]+)\ngcr\.io\/p\/app:7\n\1$/m);
    expect(text).toMatch(/^NOTES<<(kubestep_[0-9a-f]+)\nline 1\nline 2\n\1$/m);
    const summary = JSON.parse(outputsOf(ws.output)['summary-json']!) as {
      outputs: Record<string, string>;
      jobs: { pods: { containers: { name: string; terminationMessage: string | null }[] }[] }[];
    };
    expect(summary.outputs).toEqual({ IMAGE: 'gcr.io/p/app:7', NOTES: 'line 1\nline 2' });
    const main = summary.jobs[0]!.pods[0]!.containers.find((c) => c.name === 'main');
    expect(main!.terminationMessage).toBe('migrated to v42');
  });
});
