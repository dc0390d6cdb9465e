// `reported`: the result file and the step summary of a command, secrets hidden whatever
// characters they hold (JSON and Markdown escape some of them).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InfraError, InputError } from '../core/errors.js';
import type { JobSummary } from '../core/outcome.js';
import { DEFAULT_GRACES } from '../pods/problems.js';
import { reported, upCommand } from './run-command.js';

// Characters that JSON (`"`, `\`), Markdown tables (`|`) and HTML (`<`) escape, and a `%25`.
const SECRET = 's3"c|r<e\\t%25';

function io(env: Record<string, string>) {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    io: { stdin: new PassThrough(), stdout: new PassThrough(), stderr, env },
    err: () => err,
  };
}

const job: JobSummary = {
  name: 'unit',
  namespace: 'ci',
  result: 'Failed',
  explanation: `container main exited with code 1: password ${SECRET} refused`,
  attempts: 1,
  exitCodes: [1],
  pods: [],
};

describe('reported', () => {
  it('hides a secret with " | < \\ %25 in the result file and the step summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-reported-'));
    const outputFile = join(dir, 'result.json');
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const { io: x } = io({ GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
    const outcome = await reported(
      { outputFile, runId: 'r1', secrets: [SECRET] },
      x,
      new AbortController().signal,
      () =>
        Promise.resolve({
          kind: 'failed',
          reason: 'JobFailed',
          jobs: [job],
          message: `job/unit failed (${SECRET})`,
        }),
    );
    expect(outcome.kind).toBe('failed');
    const json = readFileSync(outputFile, 'utf8');
    const md = readFileSync(summary, 'utf8');
    for (const text of [json, md]) {
      expect(text).toContain('***');
      expect(text).not.toContain('s3');
    }
    expect(JSON.parse(json)).toMatchObject({ outcome: 'failed', message: 'job/unit failed (***)' });
  });

  it('hides it in the message of an error it rethrows, and writes an error result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-reported-'));
    const outputFile = join(dir, 'result.json');
    const { io: x } = io({});
    const failing = reported(
      { outputFile, runId: 'r1', secrets: [SECRET] },
      x,
      new AbortController().signal,
      () => Promise.reject(new InfraError(`cannot reach db with ${SECRET}`)),
    );
    await expect(failing).rejects.toThrow('cannot reach db with ***');
    expect(JSON.parse(readFileSync(outputFile, 'utf8'))).toMatchObject({
      outcome: 'error',
      exitCode: 3,
      message: 'cannot reach db with ***',
    });
  });
});

describe('upCommand', () => {
  it('hides --set-secret values in the errors it throws', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-up-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u, namespace: ci}}]\ncurrent-context: x\n',
    );
    const deps = join(dir, 'deps.yaml');
    // The secret ends up in a name that is not a DNS label: the error names it.
    writeFileSync(deps, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "db-${PW}"}\n');
    const { io: x } = io({});
    const up = upCommand(
      {
        kubeconfig,
        graceMs: 1000,
        apiTimeoutMs: 1000,
        verbose: false,
        deps: [deps],
        set: {},
        setSecret: { PW: 'Not_A_Label_Secret' },
        allowEnv: [],
        depsTimeoutMs: 1000,
        graces: DEFAULT_GRACES,
        replace: false,
        lifetimeMs: 60_000,
        sweep: false,
      },
      x,
      new AbortController().signal,
    );
    await expect(up).rejects.toThrow(InputError);
    await expect(up).rejects.toThrow(/db-\*\*\*/);
    await expect(up).rejects.not.toThrow(/Not_A_Label_Secret/);
  });
});
