// `kubestep run … | head -c 100`: the reader goes away (EPIPE) early. The run goes on, the exit
// code still comes from the Job, and everything is deleted, in plain and GitHub Actions output.
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { CLI, jobYaml, manifestFile, names, objectsIn, useTestNamespace } from './harness.js';

const t = useTestNamespace('pipe');

/** Runs kubestep with `pipe` (a shell redirection and pipe) and returns bash's stderr. */
function piped(args: string[], pipe: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'bash',
      [
        '-c',
        `"$0" "$@" ${pipe} > /dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`,
        process.execPath,
        CLI,
        ...args,
      ],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          KUBECONFIG: t.kubeconfig,
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', () => (clearTimeout(timer), resolve(stderr)));
  });
}

it.each([
  ['stdout to head', '| head -c 100', {}],
  ['stdout and stderr to head', '2>&1 | head -c 100', {}],
  ['GitHub Actions output to head', '| head -c 100', { GITHUB_ACTIONS: 'true' }],
])('%s: exit code from the Job, nothing left', async (name, pipe, env) => {
  for (const [script, code] of [
    ['seq 1 100000; sleep 1', 0],
    ['seq 1 100000; sleep 1; exit 4', 1],
  ] as const) {
    const job = `pipe-${name.length}-${code}`;
    const stderr = await piped(
      ['run', '-f', manifestFile(jobYaml(job, script)), '-n', t.ns],
      pipe,
      env,
    );
    expect(stderr, name).toMatch(new RegExp(`exit=${code}\\n$`));
    expect(stderr, name).not.toMatch(/Unhandled|EPIPE/);
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs)).toEqual([]);
    expect(names(left.pods)).toEqual([]);
  }
});
