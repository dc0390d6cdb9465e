// `kubestep gc`: flags, their mapping to GcOptions, and the handler (gc-command.ts).
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcome.js';
import { parseDurationMs, positive } from '../duration.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import type { GcOptions } from '../gc-command.js';
import type { Io } from '../run-command.js';

/** Adds `gc` to the parser; `handle` gets its typed options. */
export function registerGc<T>(y: Argv<T>, handle: (o: GcOptions) => Promise<void>) {
  return y.command(
    'gc',
    'delete what runs that are over left behind: objects of killed runs, kept objects and finished Jobs older than --older-than',
    (b) =>
      clusterFlags(b)
        .option('older-than', {
          type: 'string',
          default: '6h',
          requiresArg: true,
          describe:
            'delete objects of runs that are over once older than this (finished Jobs: since they finished)',
        })
        .option('max-age', {
          type: 'string',
          default: '24h',
          requiresArg: true,
          describe:
            'delete test Jobs that have not finished once older than this, whatever their run',
        })
        .option('all-namespaces', {
          alias: 'A',
          type: 'boolean',
          default: false,
          describe:
            'look in every namespace labelled kubestep.dev/gc=enabled (needs list namespaces, and list and delete there)',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'list what would be deleted; delete nothing',
        })
        .example('$0 gc -n ci', 'delete leftovers in namespace ci older than 6 h')
        .example('$0 gc -A --older-than 1h --dry-run', 'show what would go in all namespaces')
        .strict(),
    (a) => {
      if (a['all-namespaces'] && a.namespace !== undefined) {
        throw new UsageError('give either --namespace or --all-namespaces, not both');
      }
      return handle({
        ...clusterOptions(a),
        olderThanMs: parseDurationMs('older-than', a['older-than']),
        maxAgeMs: positive('max-age', parseDurationMs('max-age', a['max-age'])),
        allNamespaces: a['all-namespaces'],
        dryRun: a['dry-run'],
      });
    },
  );
}

/** The handler: `kubestep gc` (gc-command.ts, loaded on first use). */
export async function gcHandler(o: GcOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return (await import('../gc-command.js')).gcCommand(o, io, signal);
}
