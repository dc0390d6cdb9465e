// `kubestep up`: flags, their mapping to UpOptions, and the handler (run-command.ts).
import type { Argv } from 'yargs';
import type { Outcome } from '../../core/outcome.js';
import { parseDurationMs, positive } from '../duration.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import { manifestFlags, manifestOptions } from '../flags/manifests.js';
import { stuckFlags, stuckOptions } from '../flags/stuck.js';
import type { Io, UpOptions } from '../run-command.js';

/** Adds `up` to the parser; `handle` gets its typed options. */
export function registerUp<T>(y: Argv<T>, handle: (o: UpOptions) => Promise<void>) {
  return y.command(
    'up',
    'start the dependencies and wait until they are ready, then exit and leave them running (for a later "down")',
    (b) =>
      stuckFlags(clusterFlags(manifestFlags(b)))
        .demandOption('deps')
        .option('replace', {
          type: 'boolean',
          default: false,
          describe: 'replace a dependency of the same name that belongs to another run',
        })
        .option('lifetime', {
          type: 'string',
          default: '1h',
          requiresArg: true,
          describe: 'the cluster deletes the dependencies after this, in case "down" never runs',
        })
        .example(
          '$0 up --deps postgres.yaml --run-id $BUILD_ID',
          'start Postgres for the next steps; "$0 down --run-id $BUILD_ID" deletes it',
        )
        .strict(),
    (a) =>
      handle({
        ...clusterOptions(a),
        ...manifestOptions(a),
        ...stuckOptions(a),
        replace: a.replace,
        lifetimeMs: positive('lifetime', parseDurationMs('lifetime', a.lifetime)),
      }),
  );
}

/** The handler: `kubestep up` (run-command.ts, loaded on first use). */
export async function upHandler(o: UpOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return (await import('../run-command.js')).upCommand(o, io, signal);
}
