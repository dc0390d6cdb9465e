// How long a pod may stay stuck before kubestep gives up (exit 3); README "Stuck pods".
import type { Argv } from 'yargs';
import { parseDurationMs } from '../duration.js';

/** Declares --image-pull-grace, --unschedulable-grace, --config-error-grace and --pod-create-grace. */
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
        'how long a container may fail to be created or its volumes to mount (a missing Secret, ConfigMap or PersistentVolumeClaim)',
    })
    .option('pod-create-grace', {
      type: 'string',
      default: '1m',
      requiresArg: true,
      describe:
        'how long a Job may have no pod because none can be created (FailedCreate: a missing ServiceAccount, a quota, an admission refusal)',
    });
}

/** Declares --sidecar (run and wait: the test pods' regular containers that are sidecars). */
export function sidecarFlags<T>(y: Argv<T>) {
  return y.option('sidecar', {
    type: 'string',
    array: true,
    // One value per flag: `wait --sidecar x job/y` leaves job/y to the Jobs.
    nargs: 1,
    requiresArg: true,
    describe:
      "a container of the test pods that never ends on its own (a proxy, a log shipper): the pod's result is that of the others, and kubestep stops it; repeatable (README: Sidecars)",
  });
}

/** The --sidecar names (commas also separate them). */
export function sidecarOptions(a: { sidecar?: string[] | undefined }) {
  return {
    sidecars: (a.sidecar ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** The stuck flags as typed options (StuckOptions of run-command.ts). Throws UsageError. */
export function stuckOptions(a: {
  'image-pull-grace': string;
  'unschedulable-grace': string;
  'config-error-grace': string;
  'pod-create-grace': string;
}) {
  return {
    graces: {
      imagePullMs: parseDurationMs('image-pull-grace', a['image-pull-grace']),
      unschedulableMs: parseDurationMs('unschedulable-grace', a['unschedulable-grace']),
      configErrorMs: parseDurationMs('config-error-grace', a['config-error-grace']),
      podCreateMs: parseDurationMs('pod-create-grace', a['pod-create-grace']),
    },
  };
}
