#!/usr/bin/env node
// Entry point: the only file that touches `process`. Owns the root AbortController, turns
// SIGINT/SIGTERM into cancellation (a second signal exits at once) and sets the exit code.
import module from 'node:module';
import { CancelledError, InternalError } from './core/errors.js';
import { nodeVersionProblem } from './core/node-version.js';
import { exitCodeOf, exitCodeOfSignal } from './core/outcome.js';
import { VERSION } from './core/version.js';

// Before anything that needs a newer Node is loaded (the CLI is imported below, on demand): a
// clear word and exit 2 instead of a crash deep in undici.
const tooOld = nodeVersionProblem(process.versions.node);
if (tooOld) {
  process.stderr.write(`kubestep: error: ${tooOld}\n`);
  process.exitCode = 2;
} else if (process.argv.length === 3 && process.argv[2] === '--version') {
  // The version alone needs no command parser: as fast as Node starts (README: Performance).
  process.stdout.write(`${VERSION}\n`);
} else if (process.argv[2] === 'collect-artifacts') {
  // The artifacts collector in a test pod (README: Artifacts): its own small path, exit 0 after
  // SIGTERM, so that the pod's result stays its main containers'.
  const { collectCommand } = await import('./artifacts/collect.js');
  process.exitCode = await collectCommand(process.argv.slice(3), process.stdout, process.stderr);
} else {
  await main();
}

async function main(): Promise<void> {
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

  // An exception nobody caught, in kubestep's own code or a library's background task, must not
  // end the process before the cleanup: the run stops as for an infrastructure error (exit 3),
  // deletes what it created under its usual deadline and writes its result file.
  let crashed: InternalError | undefined;
  const crash = (what: string) => (err: unknown) => {
    const stack = err instanceof Error && err.stack ? err.stack.split('\n').slice(1, 6) : [];
    const first = !crashed;
    crashed ??= new InternalError(what, err);
    process.stderr.write(
      `kubestep: error: ${first ? crashed.message : `${what} during the cleanup: ${err instanceof Error ? err.message : String(err)}`}\n` +
        stack.map((l) => `kubestep:   ${l.trim()}\n`).join(''),
    );
    if (!root.signal.aborted) root.abort(crashed);
  };
  process.on('uncaughtException', crash('an uncaught exception'));
  process.on('unhandledRejection', crash('an unhandled rejection'));

  // Test hook (fault injection, like a failpoint): KUBESTEP_INJECT_FAULT=uncaught-exception@MS or
  // unhandled-rejection@MS makes one happen MS after the start. Used by test/crash.test.ts.
  const fault = /^(uncaught-exception|unhandled-rejection)@(\d+)$/.exec(
    process.env.KUBESTEP_INJECT_FAULT ?? '',
  );
  if (fault) {
    setTimeout(() => {
      const err = new Error(`injected ${fault[1]}`);
      if (fault[1] === 'uncaught-exception') throw err;
      void Promise.reject(err);
    }, Number(fault[2])).unref();
  }

  // V8's compiled code of the bundle, kept on disk between runs (NODE_COMPILE_CACHE, else the
  // temporary directory): ~30 ms less before the first request on a machine that ran it before
  // (README: Performance). Without a writable directory it is off; nothing else changes.
  module.enableCompileCache?.();
  const { runCli } = await import('./cli/cli.js');
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
  if (crashed && code < 3) {
    process.stderr.write(`kubestep: exit 3 (not ${code}): kubestep itself failed during the run\n`);
    process.exitCode = 3;
  } else if (received && outcome.kind !== 'cancelled') {
    const cancelled = exitCodeOfSignal(received);
    process.stderr.write(
      `kubestep: exit ${cancelled} (not ${code}): ${received} arrived before the run had finished its cleanup\n`,
    );
    process.exitCode = cancelled;
  } else {
    process.exitCode = code;
  }
}
