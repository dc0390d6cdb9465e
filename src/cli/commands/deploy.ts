// `kubestep deploy`: flags, their mapping to DeployOptions, and the
// handler (deploy-command.ts).
import type { Argv } from 'yargs';
import type { Outcome } from '../../core/outcome.js';
import { parseDurationMs, positive } from '../duration.js';
import { clusterFlags, clusterOptions } from '../flags/cluster.js';
import { variableFlags, variableOptions } from '../flags/manifests.js';
import { resultFileFlags, resultFileOption } from '../flags/report.js';
import { stuckFlags, stuckOptions } from '../flags/stuck.js';
import type { DeployOptions } from '../deploy-command.js';
import type { Io } from '../run-command.js';

/** Adds `deploy` to the parser; `handle` gets its typed options. */
export function registerDeploy<T>(y: Argv<T>, handle: (o: DeployOptions) => Promise<void>) {
  return y.command(
    'deploy',
    'apply manifests (server-side apply, field manager kubestep) and wait for the rollouts of their Deployments, StatefulSets and DaemonSets; fail fast, with the reason, when the new version crashes or cannot start',
    (b) =>
      resultFileFlags(stuckFlags(clusterFlags(variableFlags(b))))
        .option('filename', {
          alias: 'f',
          type: 'string',
          array: true,
          demandOption: true,
          requiresArg: true,
          describe:
            'manifest file (multi-document YAML, any namespaced kind); - for stdin; repeatable',
        })
        .option('force-conflicts', {
          type: 'boolean',
          default: false,
          describe:
            'take the fields another field manager owns (otherwise a conflict is exit 3, nothing applied)',
        })
        .option('rollout-timeout', {
          type: 'string',
          default: '5m',
          requiresArg: true,
          describe: 'limit for the whole step; then exit 1',
        })
        .option('max-restarts', {
          type: 'number',
          default: 2,
          requiresArg: true,
          describe:
            'a container of the new version that restarts more often fails the rollout (exit 1)',
        })
        .option('readiness-grace', {
          type: 'string',
          default: '2m',
          requiresArg: true,
          describe: 'how long a running pod of the new version may stay not ready (then exit 1)',
        })
        .option('rollback-on-failure', {
          type: 'boolean',
          default: false,
          describe:
            'when a rollout fails or times out, put the pod template each changed workload had before back, and wait for that rollout; the exit code stays that of the failure',
        })
        .option('diff', {
          type: 'boolean',
          default: false,
          describe:
            'print what applying would change (server-side dry run), object by object, and exit 0 without changing anything',
        })
        .example(
          '$0 deploy -f k8s/app.yaml --set IMAGE=gcr.io/p/app:$SHORT_SHA -n staging',
          'apply and wait for the rollout',
        )
        .example(
          '$0 deploy -f k8s/app.yaml --set IMAGE=gcr.io/p/app:$SHORT_SHA -n production --diff',
          'what the deploy would change (the review step)',
        )
        .strict(),
    (a) =>
      handle({
        ...clusterOptions(a),
        ...stuckOptions(a),
        ...variableOptions(a),
        files: a.filename,
        force: a['force-conflicts'],
        timeoutMs: positive(
          'rollout-timeout',
          parseDurationMs('rollout-timeout', a['rollout-timeout']),
        ),
        maxRestarts: Math.max(0, Math.floor(a['max-restarts'])),
        readinessGraceMs: parseDurationMs('readiness-grace', a['readiness-grace']),
        rollback: a['rollback-on-failure'],
        diff: a.diff,
        ...resultFileOption(a),
      }),
  );
}

/** The handler: `kubestep deploy` (deploy-command.ts, loaded on first use). */
export async function deployHandler(
  o: DeployOptions,
  io: Io,
  signal: AbortSignal,
): Promise<Outcome> {
  return (await import('../deploy-command.js')).deployCommand(o, io, signal);
}
