// `kubestep wait`: flags, their mapping to WaitOptions, and the handler (wait-command.ts).
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcome.js';
import { dnsLabelProblem } from '../../manifests/names.js';
import { parseDurationMs, positive } from '../duration.js';
import { artifactsOptions, collectionFlags } from '../flags/artifacts.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import { reportFlags, reportOptions } from '../flags/report.js';
import { sidecarFlags, sidecarOptions, stuckFlags, stuckOptions } from '../flags/stuck.js';
import type { Io } from '../run-command.js';
import type { WaitOptions } from '../wait-command.js';

/** Adds `wait` to the parser; `handle` gets its typed options. */
export function registerWait<T>(y: Argv<T>, handle: (o: WaitOptions) => Promise<void>) {
  return y.command(
    'wait [jobs..]',
    'follow Jobs that exist already (made by kubectl apply in an earlier step): mirror their logs, wait until each is Complete or Failed, exit like run',
    (b) =>
      reportFlags(
        collectionFlags(sidecarFlags(stuckFlags(clusterFlags(b)))),
        'limit for the wait; then the Jobs count as failed (exit 1)',
      )
        .positional('jobs', {
          type: 'string',
          array: true,
          describe: 'the Jobs, as job/NAME',
        })
        .option('selector', {
          alias: 'l',
          type: 'string',
          requiresArg: true,
          describe: 'the Jobs matching this label selector instead of names, e.g. app=tests',
        })
        .option('appear-timeout', {
          type: 'string',
          default: '1m',
          requiresArg: true,
          describe: 'how long the Jobs may take to appear (then exit 3)',
        })
        .option('cleanup', {
          type: 'boolean',
          default: false,
          describe: 'delete the Jobs (and their pods) at the end; by default nothing is deleted',
        })
        .example(
          'kubectl apply -f tests.yaml && $0 wait job/tests -n ci',
          'follow a Job made by kubectl',
        )
        .example(
          '$0 wait -l suite=e2e --appear-timeout 5m',
          'wait for Jobs another controller creates',
        )
        .strict(),
    (a) => {
      const names = (a.jobs ?? []).map((j) => parseJobRef(String(j)));
      if (names.length > 0 === (a.selector !== undefined)) {
        throw new UsageError(
          'name the Jobs (job/NAME ...) or give a selector (-l), one of the two',
        );
      }
      return handle({
        ...clusterOptions(a),
        ...stuckOptions(a),
        ...sidecarOptions(a),
        ...reportOptions(a),
        // The Jobs carry their collector (and its image) already.
        ...artifactsOptions({ ...a, 'artifacts-image': '' }, false),
        names,
        selector: a.selector,
        appearTimeoutMs: positive(
          'appear-timeout',
          parseDurationMs('appear-timeout', a['appear-timeout']),
        ),
        cleanup: a.cleanup,
      });
    },
  );
}

/**
 * `job/NAME`, `jobs/NAME`, `job.batch/NAME` or `NAME` → NAME. Throws UsageError for other kinds
 * and for names that cannot be Job names.
 */
export function parseJobRef(arg: string): string {
  const m = /^(?:(job|jobs|job\.batch|jobs\.batch)\/)?([^/]*)$/.exec(arg);
  if (!m) {
    throw new UsageError(`${JSON.stringify(arg)}: wait takes Jobs, as job/NAME`);
  }
  const name = m[2]!;
  const problem = name === '' ? 'is empty' : dnsLabelProblem(name);
  if (problem) throw new UsageError(`job name ${JSON.stringify(name)} ${problem}`);
  return name;
}

/** The handler: `kubestep wait` (wait-command.ts, loaded on first use). */
export async function waitHandler(o: WaitOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return (await import('../wait-command.js')).waitCommand(o, io, signal);
}
