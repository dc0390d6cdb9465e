// `kubestep run`: flags, their mapping to RunOptions, and the handler (run-command.ts, loaded when
// the command runs).
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcome.js';
import { MAX_SHARDS } from '../../manifests/shards.js';
import { parseDurationMs, positive } from '../duration.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import { manifestFlags, manifestOptions } from '../flags/manifests.js';
import { reportFlags, reportOptions } from '../flags/report.js';
import { sidecarFlags, sidecarOptions, stuckFlags, stuckOptions } from '../flags/stuck.js';
import { artifactsFlags, artifactsOptions } from '../flags/artifacts.js';
import type { Io, RunOptions } from '../run-command.js';

const CLEANUP = ['always', 'on-success', 'never'] as const;

/** Adds `run` to the parser; `handle` gets its typed options. */
export function registerRun<T>(y: Argv<T>, handle: (o: RunOptions) => Promise<void>) {
  return y.command(
    'run',
    'start the dependencies, create the test Jobs, mirror their logs, wait until each is Complete or Failed, delete everything',
    (b) =>
      reportFlags(
        artifactsFlags(sidecarFlags(stuckFlags(clusterFlags(manifestFlags(b))))),
        'limit for the whole run; then the Jobs fail (exit 1) and are cleaned up',
      )
        .option('filename', {
          alias: 'f',
          type: 'string',
          array: true,
          demandOption: true,
          requiresArg: true,
          describe:
            'manifest file with batch/v1 Jobs (multi-document YAML); - for stdin; repeatable',
        })
        .option('replace', {
          type: 'boolean',
          default: false,
          describe:
            'replace a running Job (or a dependency) of the same name that belongs to another run',
        })
        .option('shards', {
          type: 'number',
          requiresArg: true,
          describe:
            'run each Job as N Jobs in parallel (NAME-shard-I), each told its place in KUBESTEP_SHARD_INDEX (0…N-1), KUBESTEP_SHARD_COUNT and JOB_COMPLETION_INDEX; the annotation kubestep.dev/shards on a Job overrides it (README: Sharding)',
        })
        .option('cleanup', {
          choices: CLEANUP,
          default: 'always' as const,
          describe: 'delete what this run created (Jobs with their pods, dependencies) at the end',
        })
        .option('heartbeat-lease', {
          type: 'string',
          default: '5m',
          requiresArg: true,
          hidden: true,
          describe:
            'other runs treat this one as killed this long after its last heartbeat (renewed every half of it; a failed renewal every 30th)',
        })
        .example('$0 run -f k8s/tests.yaml', 'run the Jobs of tests.yaml in the current context')
        .example(
          '$0 run -f tests.yaml --deps postgres.yaml --set IMAGE=gcr.io/p/app:$SHORT_SHA -n ci',
          'start Postgres, wait until ready, run the tests against it; substitute ${IMAGE}',
        )
        .example(
          'envsubst < t.yaml | $0 run -f - --cleanup on-success',
          'manifest from stdin; keep the objects of a failed run',
        )
        .strict(),
    (a) =>
      handle({
        ...clusterOptions(a),
        ...manifestOptions(a),
        ...stuckOptions(a),
        ...sidecarOptions(a),
        ...artifactsOptions(a),
        ...reportOptions(a),
        files: a.filename,
        shards: shardsOption(a.shards),
        replace: a.replace,
        cleanup: a.cleanup,
        leaseSeconds: Math.max(
          1,
          positive('heartbeat-lease', parseDurationMs('heartbeat-lease', a['heartbeat-lease'])) /
            1000,
        ),
      }),
  );
}

/** --shards as a count; UsageError unless a whole number from 1 to MAX_SHARDS. */
function shardsOption(n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS)
    throw new UsageError(`--shards ${n}: give a whole number from 1 to ${MAX_SHARDS}`);
  return n;
}

/** The handler: `kubestep run` (run-command.ts, loaded on first use for a faster start). */
export async function runHandler(o: RunOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return (await import('../run-command.js')).runCommand(o, io, signal);
}
