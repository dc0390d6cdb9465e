// `kubestep wait`: follow Jobs that an earlier step created (kubectl apply), exactly like `run`
// follows its own. Wiring only: the work is runJobs' (jobs/run-jobs.ts).
import { randomBytes } from 'node:crypto';
import { RunTimeoutError } from '../core/errors.js';
import { runJobs } from '../jobs/run-jobs.js';
import { existingJob } from '../jobs/tracker.js';
import { resolveClusterAccess } from '../kube/config.js';
import { resolveRunId } from '../manifests/run-id.js';
import { formatSummary } from '../jobs/summary.js';
import { Ledger } from '../objects/ledger.js';
import { tearDown } from '../run/teardown.js';
import { startCloudLogging, type CloudFlags } from './cloud.js';
import type { Outcome } from '../core/outcome.js';
import { verdict } from '../report/result.js';
import {
  connect,
  plural,
  reported,
  type ArtifactsOptions,
  type ClusterOptions,
  type Io,
  type SidecarOptions,
  type StuckOptions,
} from './run-command.js';

/** Typed options of `kubestep wait`. */
export interface WaitOptions
  extends ClusterOptions, StuckOptions, SidecarOptions, CloudFlags, ArtifactsOptions {
  /** Job names (from `job/NAME` arguments); empty with `selector`. */
  names: string[];
  /** -l: a label selector of the Jobs. */
  selector?: string | undefined;
  /** How long the Jobs may take to appear, ms. */
  appearTimeoutMs: number;
  timeoutMs: number;
  /** Delete the Jobs (with their pods) at the end. */
  cleanup: boolean;
  outputFile?: string | undefined;
  junitReport?: string | undefined;
}

/**
 * Runs `kubestep wait`: finds the Jobs (waiting up to --appear-timeout for them to appear),
 * follows their logs, and waits until each is Complete or Failed. Same exit codes and result
 * file as `run`; deletes the Jobs only with `cleanup`. Throws InfraError (exit 3) when they did
 * not appear.
 */
export async function waitCommand(
  opts: WaitOptions,
  io: Io,
  signal: AbortSignal,
): Promise<Outcome> {
  const files = { outputFile: opts.outputFile, junitReport: opts.junitReport, secrets: [] };
  return reported(files, io, signal, async (report) => {
    const { runId } = resolveRunId({ env: io.env, random: () => randomBytes(4).toString('hex') });
    report.runId = runId;
    const access = await resolveClusterAccess(opts, io.env, signal);
    // Their pods and containers are unknown until they run: always say whose line it is.
    const { client, out } = connect(access, opts, io, true, []);
    report.out = out;
    const ns = access.namespace;
    const what =
      opts.selector !== undefined
        ? `Jobs matching ${JSON.stringify(opts.selector)}`
        : opts.names.map((n) => `job/${n}`).join(', ');
    out.info(`waiting for ${what} in namespace ${ns}; ${access.server} (${access.source})`);
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new RunTimeoutError(opts.timeoutMs)),
      opts.timeoutMs,
    );
    const ledger = new Ledger();
    const deps = { client, out, now: Date.now };
    let succeeded = false;
    const cloud = await startCloudLogging(opts, out, {
      runId,
      cluster: access.cluster,
      env: io.env,
      redact: report.redact,
    });
    let flushed = false;
    try {
      const outcome = await runJobs(
        deps,
        {
          runId,
          jobs: opts.names.map((n) => existingJob(ns, n)),
          drainMs: 30_000,
          anchors: new Map(),
          graces: opts.graces,
          sidecars: opts.sidecars,
          artifacts: opts.artifacts,
          existing: {
            namespace: ns,
            selector: opts.selector,
            appearTimeoutMs: opts.appearTimeoutMs,
          },
        },
        ledger,
        AbortSignal.any([signal, timeout.signal]),
      );
      succeeded = outcome.kind === 'succeeded';
      if (outcome.jobs.length > 0) {
        for (const line of ['summary:', ...formatSummary(outcome.jobs).map((l) => `  ${l}`)])
          out.info(line);
      }
      flushed = true;
      await cloud?.finish(outcome.jobs, opts.graceMs);
      out.result(succeeded, verdict(outcome));
      return outcome;
    } finally {
      clearTimeout(timer);
      if (!flushed) await cloud?.finish(undefined, opts.graceMs);
      if (opts.cleanup) {
        await tearDown(deps, ledger, {
          runId,
          cleanup: 'always',
          succeeded,
          graceMs: opts.graceMs,
        });
      } else if (ledger.items.length > 0) {
        out.debug(`left ${plural(ledger.items.length, 'Job')} in place (no --cleanup)`);
      }
      await client.close().catch(() => undefined);
    }
  });
}
