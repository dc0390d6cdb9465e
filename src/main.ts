#!/usr/bin/env node
// Entry point: the only file that touches `process`. Owns the root AbortController, turns
// SIGINT/SIGTERM into cancellation (a second signal exits at once) and sets the exit code.
import { runCli } from './cli/cli.js';
import { CancelledError } from './core/errors.js';
import { exitCodeOf, exitCodeOfSignal } from './core/outcome.js';

const root = new AbortController();
let signals = 0;
let received: 'SIGINT' | 'SIGTERM' | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals++;
    received ??= sig;
    const code = exitCodeOfSignal(sig);
    if (signals > 1) {
      process.stderr.write(`kubestep: ${sig} again: exiting now without waiting for cleanup\n`);
      process.exit(code);
    }
    process.stderr.write(
      `kubestep: ${sig}: stopping and deleting what this run created (send it again to exit at once)\n`,
    );
    root.abort(new CancelledError(sig));
  });
}

// A reader that goes away (`kubestep run … | head`) fails writes with EPIPE: output is best
// effort, the run goes on and cleans up (report/console.ts drops lines to a closed stdout).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

// A library's background task (Cloud Logging's, when credentials vanish) must not end a run whose
// exit code comes from the Jobs: report it and go on.
process.on('unhandledRejection', (reason) => {
  const message = reason instanceof Error ? reason.message : String(reason);
  process.stderr.write(
    `kubestep: warning: a background task failed (${message}); the run goes on\n`,
  );
});

const outcome = await runCli(
  process.argv.slice(2),
  {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    columns: process.stdout.columns,
  },
  root.signal,
);
// A signal that came after the result was known (during cleanup) still cancels the step: CI
// systems and shells read 128 + signal number as "stopped by that signal".
const code = exitCodeOf(outcome);
if (received && outcome.kind !== 'cancelled') {
  const cancelled = exitCodeOfSignal(received);
  process.stderr.write(
    `kubestep: exit ${cancelled} (not ${code}): ${received} arrived before the run had finished its cleanup\n`,
  );
  process.exitCode = cancelled;
} else {
  process.exitCode = code;
}
