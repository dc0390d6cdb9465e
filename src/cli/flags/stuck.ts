// How long a pod may stay stuck before kubestep gives up (exit 3); README "Stuck pods".
import type { Argv } from 'yargs';
import { parseDurationMs } from '../duration.js';

/** Declares --image-pull-grace, --unschedulable-grace and --config-error-grace. */
export function stuckFlags<T>(y: Argv<T>) {
  return y
    .option('image-pull-grace', {
      type: 'string',
      default: '2m',
      requiresArg: true,
      describe: 'how long a pod may fail to pull its image (ErrImagePull, ImagePullBackOff)',
    })
    .option('unschedulable-grace', {
      type: 'string',
      default: '5m',
      requiresArg: true,
      describe: 'how long a pod may stay Unschedulable (an autoscaler may add a node)',
    })
    .option('config-error-grace', {
      type: 'string',
      default: '30s',
      requiresArg: true,
      describe:
        'how long a container may fail to be created (CreateContainerConfigError: a missing Secret or ConfigMap)',
    });
}

/** The stuck flags as typed options (StuckOptions of run-command.ts). Throws UsageError. */
export function stuckOptions(a: {
  'image-pull-grace': string;
  'unschedulable-grace': string;
  'config-error-grace': string;
}) {
  return {
    graces: {
      imagePullMs: parseDurationMs('image-pull-grace', a['image-pull-grace']),
      unschedulableMs: parseDurationMs('unschedulable-grace', a['unschedulable-grace']),
      configErrorMs: parseDurationMs('config-error-grace', a['config-error-grace']),
    },
  };
}
