import { describe, expect, it } from 'vitest';
import { CONFIGMAPS, DEPLOYMENTS, PODS, SERVICES, STATEFULSETS } from '../kube/resources.js';
import type { ContainerStatus, Pod, Service, Workload } from '../kube/types.js';
import {
  mountFailureOf,
  podProblem,
  ProblemClock,
  stuckGraceMs,
  testPodProblem,
} from '../pods/problems.js';
import { podBreakage, readinessOf, selectorMatches, type DependencyView } from './readiness.js';

function pod(
  status: Pod['status'] = {},
  extra: { name?: string; deletionTimestamp?: string; memory?: string } = {},
): Pod {
  return {
    metadata: {
      name: extra.name ?? 'db',
      uid: 'u1',
      ...(extra.deletionTimestamp ? { deletionTimestamp: extra.deletionTimestamp } : {}),
    },
    spec: {
      containers: [
        {
          name: 'db',
          ...(extra.memory ? { resources: { limits: { memory: extra.memory } } } : {}),
        },
      ],
    },
    status: { phase: 'Running', ...status },
  };
}

const waiting = (reason: string, message?: string, last?: ContainerStatus['lastState']) =>
  pod({
    phase: 'Pending',
    containerStatuses: [
      { name: 'db', state: { waiting: { reason, message } }, lastState: last, restartCount: 1 },
    ],
  });

const ready = pod({
  conditions: [{ type: 'Ready', status: 'True' }],
  containerStatuses: [{ name: 'db', ready: true, restartCount: 0, state: { running: {} } }],
});

describe('podProblem', () => {
  it.each([
    [waiting('ErrImageNeverPull', 'not present'), 'ErrImageNeverPull', 0],
    [waiting('InvalidImageName'), 'InvalidImageName', 0],
    [waiting('ImagePullBackOff', 'Back-off pulling image "x"'), 'ImagePullBackOff', 120_000],
    [
      waiting('CreateContainerConfigError', 'secret "s" not found'),
      'CreateContainerConfigError',
      30_000,
    ],
    [
      waiting('CrashLoopBackOff', 'back-off 10s', { terminated: { exitCode: 1, reason: 'Error' } }),
      'CrashLoopBackOff',
      0,
    ],
    [
      pod({
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes' },
        ],
      }),
      'Unschedulable',
      300_000,
    ],
    [pod({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' }), 'Evicted', 0],
    [
      pod({
        phase: 'Succeeded',
        containerStatuses: [{ name: 'db', state: { terminated: { exitCode: 0 } } }],
      }),
      'Completed',
      0,
    ],
  ])('%#: %s', (p, reason, grace) => {
    const problem = podProblem(p);
    expect(problem?.reason).toBe(reason);
    expect(problem?.graceMs).toBe(grace);
  });

  it('says what a crash-looping container last exited with', () => {
    expect(
      podProblem(
        waiting('CrashLoopBackOff', 'back-off', { terminated: { exitCode: 3, reason: 'Error' } }),
      )?.message,
    ).toBe('container db: CrashLoopBackOff: back-off (last exit: Error, exit code 3)');
  });

  it('finds nothing wrong with a pod that is starting or running', () => {
    expect(podProblem(waiting('ContainerCreating'))).toBeUndefined();
    expect(podProblem(ready)).toBeUndefined();
  });
});

const view = (v: Partial<DependencyView>): DependencyView => ({
  res: PODS,
  name: 'db',
  object: {},
  deleted: false,
  pods: [],
  ...v,
});
const seenAt = (ms: number) => () => ms;

describe('readinessOf', () => {
  it.each<[string, DependencyView, number, string]>([
    ['ready pod', view({ object: ready, pods: [ready] }), 0, 'ready'],
    ['starting pod', view({ pods: [waiting('ContainerCreating')] }), 0, 'waiting'],
    ['image never pulled', view({ pods: [waiting('ErrImageNeverPull')] }), 0, 'failed'],
    [
      'pull back-off within its grace',
      view({ pods: [waiting('ImagePullBackOff')] }),
      60_000,
      'waiting',
    ],
    [
      'pull back-off past its grace',
      view({ pods: [waiting('ImagePullBackOff')] }),
      120_000,
      'failed',
    ],
    ['deleted', view({ deleted: true }), 0, 'failed'],
    ['ConfigMap', view({ res: CONFIGMAPS }), 0, 'ready'],
    [
      'Service without endpoints',
      view({ res: SERVICES, object: { spec: { selector: { app: 'db' } } } as Service }),
      0,
      'waiting',
    ],
    [
      'Service with a ready endpoint',
      view({
        res: SERVICES,
        object: { spec: { selector: { app: 'db' } } } as Service,
        endpoints: { subsets: [{ addresses: [{ ip: '10.0.0.1' }] }] },
      }),
      0,
      'ready',
    ],
    [
      'Service with only a not-ready endpoint',
      view({
        res: SERVICES,
        object: { spec: { selector: { app: 'db' } } } as Service,
        endpoints: { subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }] }] },
      }),
      0,
      'waiting',
    ],
    [
      'Service without selector',
      view({ res: SERVICES, object: { spec: {} } as Service }),
      0,
      'ready',
    ],
    [
      'Deployment with all replicas ready',
      view({
        res: DEPLOYMENTS,
        object: {
          metadata: { generation: 1 },
          spec: { replicas: 2 },
          status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2 },
        } as Workload,
      }),
      0,
      'ready',
    ],
    [
      'Deployment with 1 of 2 ready',
      view({
        res: DEPLOYMENTS,
        object: {
          metadata: { generation: 1 },
          spec: { replicas: 2 },
          status: { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 2 },
        } as Workload,
      }),
      0,
      'waiting',
    ],
    [
      'Deployment not yet observed',
      view({
        res: DEPLOYMENTS,
        object: {
          metadata: { generation: 2 },
          status: { observedGeneration: 1, readyReplicas: 1 },
        } as Workload,
      }),
      0,
      'waiting',
    ],
    [
      'Deployment past its progress deadline',
      view({
        res: DEPLOYMENTS,
        object: {
          status: {
            conditions: [
              { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
            ],
          },
        } as Workload,
      }),
      0,
      'failed',
    ],
    [
      'StatefulSet ready',
      view({
        res: STATEFULSETS,
        object: {
          metadata: { generation: 1 },
          status: { observedGeneration: 1, readyReplicas: 1 },
        } as Workload,
      }),
      0,
      'ready',
    ],
    [
      'StatefulSet whose pod crash-loops',
      view({ res: STATEFULSETS, object: {}, pods: [waiting('CrashLoopBackOff')] }),
      0,
      'failed',
    ],
  ])('%s → %s', (_, v, now, state) => {
    expect(readinessOf(v, seenAt(0), now).state).toBe(state);
  });

  it('explains what it waits for', () => {
    const r = readinessOf(
      view({
        res: SERVICES,
        name: 'pg',
        object: { spec: { selector: { app: 'pg', run: 'r1' } } } as Service,
      }),
      seenAt(0),
      0,
    );
    expect(r).toEqual({
      state: 'waiting',
      why: 'service/pg has no ready endpoint (no ready pod with app=pg,run=r1)',
    });
  });
});

describe('podBreakage', () => {
  const restarted = (reason: string, exitCode: number) =>
    pod(
      {
        containerStatuses: [
          {
            name: 'db',
            restartCount: 1,
            lastState: { terminated: { exitCode, reason } },
            state: { running: {} },
          },
        ],
      },
      { memory: '64Mi' },
    );
  it.each<[string, Pod | undefined, Pod, boolean, string | undefined]>([
    ['nothing happened', ready, ready, false, undefined],
    ['deleted', ready, ready, true, 'pod/db was deleted'],
    [
      'being deleted',
      ready,
      pod({}, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      false,
      'pod/db was deleted',
    ],
    [
      'OOMKilled',
      ready,
      restarted('OOMKilled', 137),
      false,
      'container db of pod/db restarted (OOMKilled, exit code 137, memory limit 64Mi)',
    ],
    [
      'restarted',
      ready,
      restarted('Error', 1),
      false,
      'container db of pod/db restarted (Error, exit code 1)',
    ],
    [
      'restarted before the tests started',
      restarted('Error', 1),
      restarted('Error', 1),
      false,
      undefined,
    ],
    [
      'evicted',
      ready,
      pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }),
      false,
      'pod/db was evicted: The node was low on resource: memory.',
    ],
  ])('%s', (_, before, now, deleted, why) => {
    expect(podBreakage(before, now, deleted)).toBe(why);
  });
});

describe('selectorMatches', () => {
  it.each([
    [{ app: 'db' }, { app: 'db', x: 'y' }, true],
    [{ app: 'db' }, { app: 'web' }, false],
    [{}, { app: 'db' }, false],
    [undefined, { app: 'db' }, false],
  ])('%j in %j → %s', (sel, labels, want) => {
    expect(selectorMatches(sel, labels)).toBe(want);
  });
});

describe('testPodProblem and stuckGraceMs', () => {
  const graces = {
    imagePullMs: 1_000,
    unschedulableMs: 2_000,
    configErrorMs: 3_000,
    podCreateMs: 4,
  };
  const waitingPod = (reason: string, extra: Partial<Pod> = {}): Pod => ({
    metadata: { name: 'p', uid: 'u' },
    status: {
      phase: 'Pending',
      containerStatuses: [{ name: 'main', state: { waiting: { reason } } }],
    },
    ...extra,
  });
  it.each<[string, Pod, string | undefined, number | undefined]>([
    ['image never pulled: at once', waitingPod('ErrImageNeverPull'), 'ErrImageNeverPull', 0],
    ['invalid image: at once', waitingPod('InvalidImageName'), 'InvalidImageName', 0],
    ['pull error: the pull grace', waitingPod('ImagePullBackOff'), 'ImagePullBackOff', 1_000],
    [
      'config error: its grace',
      waitingPod('CreateContainerConfigError'),
      'CreateContainerConfigError',
      3_000,
    ],
    ['crash loop: the Job decides', waitingPod('CrashLoopBackOff'), undefined, undefined],
    ['creating: normal', waitingPod('ContainerCreating'), undefined, undefined],
    [
      'unschedulable: its grace',
      {
        metadata: { name: 'p' },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/1 nodes are available: 1 Insufficient cpu.',
            },
          ],
        },
      },
      'Unschedulable',
      2_000,
    ],
    [
      'a pod that ended: the Job decides',
      { metadata: { name: 'p' }, status: { phase: 'Failed' } },
      undefined,
      undefined,
    ],
    [
      'a pod being deleted',
      waitingPod('ErrImagePull', {
        metadata: { name: 'p', deletionTimestamp: '2026-01-01T00:00:00Z' },
      }),
      undefined,
      undefined,
    ],
    [
      'a claim that does not exist: the config grace',
      {
        metadata: { name: 'p' },
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/1 nodes are available: persistentvolumeclaim "data" not found.',
            },
          ],
        },
      },
      'MissingClaim',
      3_000,
    ],
  ])('%s', (_, pod, reason, graceMs) => {
    const p = testPodProblem(pod, graces);
    expect(p?.reason).toBe(reason);
    expect(p?.graceMs).toBe(graceMs);
  });

  // Events as the kubelet writes them (Kubernetes 1.20), oldest first.
  const mountEvents = [
    { type: 'Normal', reason: 'Scheduled', message: 'Successfully assigned ci/p to node' },
    {
      type: 'Warning',
      reason: 'FailedMount',
      message: 'MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
    },
  ];
  it.each<[string, Pod, string | undefined]>([
    ['ContainerCreating with a FailedMount event', waitingPod('ContainerCreating'), 'FailedMount'],
    [
      'scheduled, no container status yet',
      {
        metadata: { name: 'p' },
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
      },
      'FailedMount',
    ],
    [
      'running: an old event does not count',
      { metadata: { name: 'p' }, status: { phase: 'Running' } },
      undefined,
    ],
  ])('a volume that cannot be mounted: %s', (_, pod, reason) => {
    const p = testPodProblem(pod, graces, mountFailureOf(mountEvents));
    expect(p?.reason).toBe(reason);
    if (reason) {
      expect(p?.graceMs).toBe(3_000);
      expect(p?.message).toBe(
        'FailedMount: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
      );
    }
  });

  it('mountFailureOf takes the newest Warning of FailedMount or FailedAttachVolume', () => {
    expect(mountFailureOf([])).toBeUndefined();
    expect(
      mountFailureOf([{ type: 'Normal', reason: 'FailedMount', message: 'x' }]),
    ).toBeUndefined();
    expect(
      mountFailureOf([
        { type: 'Warning', reason: 'FailedMount', message: 'old' },
        { type: 'Warning', reason: 'FailedAttachVolume', message: ' new ' },
      ]),
    ).toEqual({ reason: 'FailedAttachVolume', message: 'new' });
  });

  it('mountFailureOf prefers a missing object to a newer transient failure (seen in CI)', () => {
    expect(
      mountFailureOf([
        {
          type: 'Warning',
          reason: 'FailedMount',
          message:
            'MountVolume.SetUp failed for volume "creds" : secret "db-creds-missing" not found',
        },
        {
          type: 'Warning',
          reason: 'FailedMount',
          message:
            'MountVolume.SetUp failed for volume "default-token-x68cr" : failed to sync secret cache: timed out waiting for the condition',
        },
      ]),
    ).toEqual({
      reason: 'FailedMount',
      message: 'MountVolume.SetUp failed for volume "creds" : secret "db-creds-missing" not found',
    });
  });

  it.each<[string, { count?: number; series?: { count?: number } }, boolean]>([
    ['once: a busy kubelet whose next try mounts it (seen with 200 pods on one node)', {}, false],
    ['count 2', { count: 2 }, false],
    ['count 3: it recurs at each retry', { count: 3 }, true],
    ['series.count 4 (events.k8s.io)', { series: { count: 4 } }, true],
  ])('mountFailureOf: a secret cache timeout recorded %s', (_what, times, counts) => {
    const message =
      'MountVolume.SetUp failed for volume "default-token-mr849" : failed to sync secret cache: timed out waiting for the condition';
    const failure = mountFailureOf([{ type: 'Warning', reason: 'FailedMount', message, ...times }]);
    expect(failure).toEqual(counts ? { reason: 'FailedMount', message } : undefined);
  });

  it('mountFailureOf: a missing object counts at once, whatever the count', () => {
    const message = 'MountVolume.SetUp failed for volume "v" : secret "nope" not found';
    expect(mountFailureOf([{ type: 'Warning', reason: 'FailedMount', message, count: 1 }])).toEqual(
      {
        reason: 'FailedMount',
        message,
      },
    );
  });

  it('keeps CrashLoopBackOff a problem for dependencies', () => {
    expect(stuckGraceMs('CrashLoopBackOff', graces)).toBe(0);
    expect(podProblem(waitingPod('CrashLoopBackOff'), graces)?.reason).toBe('CrashLoopBackOff');
  });
});

describe('ProblemClock', () => {
  it('keeps one grace while ErrImagePull and ImagePullBackOff alternate', () => {
    const c = new ProblemClock();
    c.note('u', 'ErrImagePull', 1_000);
    c.note('u', 'ImagePullBackOff', 2_000);
    c.note('u', 'ErrImagePull', 12_000);
    expect(c.startedMs('u', 'ImagePullBackOff', 20_000)).toBe(1_000);
  });

  it('starts again when the problem goes away or turns into another kind', () => {
    const c = new ProblemClock();
    c.note('u', 'ImagePullBackOff', 1_000);
    c.note('u', undefined, 2_000);
    c.note('u', 'ImagePullBackOff', 3_000);
    expect(c.startedMs('u', 'ImagePullBackOff', 9_000)).toBe(3_000);
    c.note('u', 'CreateContainerConfigError', 4_000);
    expect(c.startedMs('u', 'CreateContainerConfigError', 9_000)).toBe(4_000);
    expect(c.startedMs('u', 'ImagePullBackOff', 9_000)).toBe(9_000);
  });

  it('answers now for a pod it has not seen', () => {
    expect(new ProblemClock().startedMs('x', 'ErrImagePull', 5)).toBe(5);
  });
});
