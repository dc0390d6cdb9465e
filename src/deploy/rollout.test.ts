import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.js';
import { rolloutStatus } from './rollout.js';

// Literal objects in the shape the API server returns them (apps/v1), after kubectl's own
// rollout_status_test.go cases.
const deployment = (spec: object, status: object, generation = 2): KubeObject =>
  ({ kind: 'Deployment', metadata: { name: 'web', generation }, spec, status }) as KubeObject;
const statefulSet = (spec: object, status: object, generation = 2): KubeObject =>
  ({ kind: 'StatefulSet', metadata: { name: 'db', generation }, spec, status }) as KubeObject;
const daemonSet = (spec: object, status: object, generation = 2): KubeObject =>
  ({ kind: 'DaemonSet', metadata: { name: 'agent', generation }, spec, status }) as KubeObject;

describe('rolloutStatus', () => {
  it.each<[string, KubeObject, boolean, RegExp, string?]>([
    [
      'Deployment: spec not observed yet',
      deployment({ replicas: 1 }, { observedGeneration: 1 }),
      false,
      /spec update to be observed/,
    ],
    [
      'Deployment: new replicas being made',
      deployment({ replicas: 3 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 1 }),
      false,
      /^1 out of 3 new replicas have been updated$/,
    ],
    [
      'Deployment: old replicas pending termination',
      deployment({ replicas: 2 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 2 }),
      false,
      /^1 old replicas are pending termination$/,
    ],
    [
      'Deployment: updated but not available',
      deployment(
        { replicas: 2 },
        { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 },
      ),
      false,
      /^1 of 2 updated replicas are available$/,
    ],
    [
      'Deployment: done',
      deployment(
        { replicas: 2 },
        { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
      ),
      true,
      /successfully rolled out/,
    ],
    [
      'Deployment: scaled to zero is done',
      deployment({ replicas: 0 }, { observedGeneration: 2 }),
      true,
      /successfully rolled out/,
    ],
    [
      'Deployment: past its progress deadline fails',
      deployment(
        { replicas: 1 },
        {
          observedGeneration: 2,
          replicas: 2,
          updatedReplicas: 1,
          conditions: [
            {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "web-7d9" has timed out progressing.',
            },
          ],
        },
      ),
      false,
      /has timed out progressing/,
      'deployment "web" exceeded its progress deadline',
    ],
    [
      'StatefulSet: not ready',
      statefulSet({ replicas: 3 }, { observedGeneration: 2, readyReplicas: 1 }),
      false,
      /^waiting for 2 pods to be ready$/,
    ],
    [
      'StatefulSet: revisions differ',
      statefulSet(
        { replicas: 2 },
        {
          observedGeneration: 2,
          readyReplicas: 2,
          updatedReplicas: 1,
          updateRevision: 'db-b',
          currentRevision: 'db-a',
        },
      ),
      false,
      /1 pods at revision db-b/,
    ],
    [
      'StatefulSet: done',
      statefulSet(
        { replicas: 2 },
        {
          observedGeneration: 2,
          readyReplicas: 2,
          currentReplicas: 2,
          updateRevision: 'db-b',
          currentRevision: 'db-b',
        },
      ),
      true,
      /rolling update complete: 2 pods at revision db-b/,
    ],
    [
      'StatefulSet: partition 2 of 3, one updated is done',
      statefulSet(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } },
        {
          observedGeneration: 2,
          readyReplicas: 3,
          updatedReplicas: 1,
          updateRevision: 'db-b',
          currentRevision: 'db-a',
        },
      ),
      true,
      /partitioned rollout complete: 1 new pods/,
    ],
    [
      'StatefulSet: partition 1 of 3, one updated waits',
      statefulSet(
        { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1 },
      ),
      false,
      /1 out of 2 new pods have been updated/,
    ],
    [
      'StatefulSet: OnDelete has nothing to wait for',
      statefulSet({ replicas: 3, updateStrategy: { type: 'OnDelete' } }, {}),
      true,
      /OnDelete strategy/,
    ],
    [
      'DaemonSet: updating',
      daemonSet(
        {},
        { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 2 },
      ),
      false,
      /^2 out of 3 new pods have been updated$/,
    ],
    [
      'DaemonSet: not available',
      daemonSet(
        {},
        {
          observedGeneration: 2,
          desiredNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberAvailable: 2,
        },
      ),
      false,
      /^2 of 3 updated pods are available$/,
    ],
    [
      'DaemonSet: done',
      daemonSet(
        {},
        {
          observedGeneration: 2,
          desiredNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberAvailable: 3,
        },
      ),
      true,
      /successfully rolled out/,
    ],
  ])('%s', (_name, obj, done, message, failed) => {
    const s = rolloutStatus(obj)!;
    expect(s.done).toBe(done);
    expect(s.message).toMatch(message);
    expect(s.failed).toBe(failed);
  });

  it('has nothing to say of other kinds', () => {
    expect(rolloutStatus({ kind: 'Service', metadata: { name: 's' } })).toBe(undefined);
  });
});
