// A kubestep command line parsed by the real parser (flags, choices, durations), without running
// anything: for checks of the command lines in action.yml, cloudbuild.yaml and the README.
import { PassThrough } from 'node:stream';
import { DONE, exitCodeOf, type Outcome } from '../core/outcome.js';
import { runCli, type Commands } from './cli.js';

/** What a command line parses to: the command and its typed options, or the usage error. */
export type Parsed =
  | { ok: true; command: keyof Commands; opts: Record<string, unknown> }
  | { ok: false; code: number; error: string };

/**
 * Parses `argv` (as after `kubestep`) with the CLI's parser and commands that only record their
 * options. `env` is the environment the parser sees (stdin is empty).
 */
export async function parseOnly(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<Parsed> {
  let parsed: Parsed | undefined;
  const record =
    (command: keyof Commands) =>
    (opts: object): Promise<Outcome> => {
      parsed = { ok: true, command, opts: opts as Record<string, unknown> };
      return Promise.resolve(DONE);
    };
  const commands: Commands = {
    run: record('run'),
    up: record('up'),
    down: record('down'),
    wait: record('wait'),
    gc: record('gc'),
    deploy: record('deploy'),
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const stdin = new PassThrough();
  stdin.end();
  const outcome = await runCli(
    argv,
    { stdin, stdout, stderr, env },
    AbortSignal.timeout(10_000),
    commands,
  );
  stdout.resume();
  return parsed ?? { ok: false, code: exitCodeOf(outcome), error: err.trim() };
}
