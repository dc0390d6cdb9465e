// `kubestep run`: flags in, exit code out. Wiring only: the work is in jobs/run-jobs.ts.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ExitCode, InputError, RunTimeoutError, messageOf } from '../errors.js';
import { runJobs, type CleanupPolicy, type RunOutcome } from '../jobs/run-jobs.js';
import { DEFAULT_RETRY, KubeClient } from '../kube/client.js';
import { loadClusterAccess } from '../kube/config.js';
import { describeNetworkError } from '../kube/errors.js';
import { toTestJobs } from '../manifests/jobs.js';
import { parseManifests, type ManifestSource } from '../manifests/parse.js';
import { resolveRunId } from '../manifests/run-id.js';
import { createConsoleOutput } from '../report/console.js';
import { needsPrefix } from '../report/log-format.js';
import { formatSummary } from '../report/summary.js';

/** Typed options of `kubestep run`. */
export interface RunOptions {
  files: string[];
  set: Record<string, string>;
  runId?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  replace: boolean;
  timeoutMs: number;
  cleanup: CleanupPolicy;
  graceMs: number;
  /** Retry budget for transient API failures, ms. */
  apiTimeoutMs: number;
  verbose: boolean;
}

/** The process's streams and environment, injected. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs `kubestep run` and returns its exit code: 0 all Jobs Complete, 1 a Job Failed or the
 * timeout passed, 130/143 cancelled. Throws UsageError/InputError (exit 2) and InfraError or
 * KubeApiError (exit 3) for runs that ended before an outcome; the caller maps those.
 */
export async function runCommand(opts: RunOptions, io: Io, signal: AbortSignal): Promise<number> {
  const sources = await readSources(opts.files, io.stdin);
  const { runId, from } = resolveRunId({
    flag: opts.runId,
    env: io.env,
    random: () => randomBytes(4).toString('hex'),
  });
  const lookup = (name: string) => (name === 'RUN_ID' ? runId : (opts.set[name] ?? io.env[name]));
  const docs = parseManifests(sources, lookup);
  const access = loadClusterAccess(opts, io.env);
  const jobs = toTestJobs(docs, {
    namespace: access.namespace,
    namespaceIsExplicit: access.namespaceIsExplicit,
    runId,
  });

  const out = createConsoleOutput({
    stdout: io.stdout,
    stderr: io.stderr,
    prefix: needsPrefix(jobs),
    verbose: opts.verbose,
  });
  const client = new KubeClient(
    access.kubeConfig,
    { ...DEFAULT_RETRY, maxRetryTimeMs: opts.apiTimeoutMs },
    (what, err, delayMs) =>
      out.debug(`${what} failed (${describeNetworkError(err)}); retrying in ${delayMs} ms`),
  );
  out.info(
    `run ${runId} (id from ${from}); ${jobs.length} ${jobs.length === 1 ? 'Job' : 'Jobs'}; ${access.server} (${access.source})`,
  );

  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new RunTimeoutError(opts.timeoutMs)),
    opts.timeoutMs,
  );
  try {
    const outcome = await runJobs(
      { client, out, now: Date.now },
      {
        runId,
        jobs,
        replace: opts.replace,
        cleanup: opts.cleanup,
        graceMs: opts.graceMs,
        drainMs: 30_000,
      },
      AbortSignal.any([signal, timeout.signal]),
    );
    for (const line of ['summary:', ...formatSummary(outcome.jobs).map((l) => `  ${l}`)])
      out.info(line);
    out.info(verdict(outcome));
    return exitCodeOf(outcome);
  } finally {
    clearTimeout(timer);
    await client.close().catch(() => undefined);
  }
}

/** The last line of a run. */
function verdict(o: RunOutcome): string {
  switch (o.kind) {
    case 'succeeded':
      return `PASSED: ${o.jobs.length === 1 ? 'the Job is' : `all ${o.jobs.length} Jobs are`} Complete`;
    case 'failed':
    case 'timed-out':
      return `FAILED: ${o.message}`;
    case 'infra-error':
      return `ERROR: ${o.message}`;
    case 'cancelled':
      return `CANCELLED by ${o.signal}`;
  }
}

/** Exit code of a run's outcome; see README "Exit codes". */
export function exitCodeOf(o: RunOutcome): number {
  switch (o.kind) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
    case 'timed-out':
      return ExitCode.testsFailed;
    case 'infra-error':
      return ExitCode.infra;
    case 'cancelled':
      return o.signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
  }
}

async function readSources(files: string[], stdin: Readable): Promise<ManifestSource[]> {
  if (files.filter((f) => f === '-').length > 1)
    throw new InputError('-f - (stdin) may be given only once');
  return Promise.all(
    files.map(async (f) => {
      try {
        if (f === '-') return { name: '<stdin>', text: await text(stdin) };
        return { name: f, text: await readFile(f, 'utf8') };
      } catch (err) {
        const code = (err as { code?: string }).code;
        const why =
          code === 'ENOENT'
            ? 'no such file'
            : code === 'EACCES'
              ? 'permission denied'
              : code === 'EISDIR'
                ? 'is a directory'
                : messageOf(err);
        throw new InputError(`cannot read manifest ${f}: ${why}`, { cause: err });
      }
    }),
  );
}
