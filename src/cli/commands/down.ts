// `kubestep down`: flags, their mapping to DownOptions, and the handler (run-command.ts).
import type { Argv } from 'yargs';
import type { Outcome } from '../../core/outcome.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import type { DownOptions, Io } from '../run-command.js';

/** Adds `down` to the parser; `handle` gets its typed options. */
export function registerDown<T>(y: Argv<T>, handle: (o: DownOptions) => Promise<void>) {
  return y.command(
    'down',
    'delete everything of a run (Jobs, dependencies) by its labels',
    (b) =>
      clusterFlags(b)
        .option('run-id', {
          type: 'string',
          requiresArg: true,
          describe: 'the run to delete; default: BUILD_ID, else GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT',
        })
        .example('$0 down --run-id 7f3a9c1e -n ci', 'delete what "up" (or a kept run) left')
        .strict(),
    (a) => handle({ ...clusterOptions(a), runId: a['run-id'] }),
  );
}

/** The handler: `kubestep down` (run-command.ts, loaded on first use). */
export async function downHandler(o: DownOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return (await import('../run-command.js')).downCommand(o, io, signal);
}
