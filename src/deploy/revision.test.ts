import { describe, expect, it } from 'vitest';
import type { KubeObject, Pod } from '../kube/types.js';
import { DEFAULT_GRACES } from '../pods/problems.js';
import { isOfRevision, newRevision, rolloutPodProblem } from './revision.js';

const owner = (uid: string) => [{ kind: 'X', name: 'x', uid, controller: true }];

describe('newRevision', () => {
  const web = {
    kind: 'Deployment',
    metadata: { name: 'web', uid: 'd1', annotations: { 'deployment.kubernetes.io/revision': '3' } },
  } as KubeObject;
  const rs = (rev: string, hash: string, uid = 'd1') =>
    ({
      kind: 'ReplicaSet',
      metadata: {
        name: `web-${hash}`,
        ownerReferences: owner(uid),
        labels: { 'pod-template-hash': hash },
        annotations: { 'deployment.kubernetes.io/revision': rev },
      },
    }) as KubeObject;

  it.each<[string, KubeObject, KubeObject[], unknown]>([
    [
      'a Deployment: its ReplicaSet of the same revision',
      web,
      [rs('2', 'aaa'), rs('3', 'bbb'), rs('3', 'ccc', 'other')],
      { label: 'pod-template-hash', value: 'bbb' },
    ],
    ['a Deployment whose new ReplicaSet is not there yet', web, [rs('2', 'aaa')], undefined],
    [
      'a StatefulSet: its updateRevision',
      {
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        status: { updateRevision: 'db-5f6' },
      } as KubeObject,
      [],
      { label: 'controller-revision-hash', value: 'db-5f6' },
    ],
    [
      'a DaemonSet: its newest ControllerRevision',
      { kind: 'DaemonSet', metadata: { name: 'agent', uid: 'ds' } },
      [
        {
          kind: 'ControllerRevision',
          metadata: { name: 'agent-111', ownerReferences: owner('ds') },
          revision: 1,
        },
        {
          kind: 'ControllerRevision',
          metadata: { name: 'agent-222', ownerReferences: owner('ds') },
          revision: 2,
        },
      ] as unknown as KubeObject[],
      { label: 'controller-revision-hash', value: '222' },
    ],
  ])('%s', (_name, workload, owned, want) => {
    expect(newRevision(workload, owned)).toEqual(want);
  });

  it('a pod of the revision, not one being deleted', () => {
    const pod = (labels: Record<string, string>, deleting = false): Pod => ({
      metadata: { name: 'p', labels, ...(deleting ? { deletionTimestamp: 'x' } : {}) },
    });
    const rev = { label: 'pod-template-hash', value: 'bbb' };
    expect(isOfRevision(pod({ 'pod-template-hash': 'bbb' }), rev)).toBe(true);
    expect(isOfRevision(pod({ 'pod-template-hash': 'aaa' }), rev)).toBe(false);
    expect(isOfRevision(pod({ 'pod-template-hash': 'bbb' }, true), rev)).toBe(false);
  });
});

describe('rolloutPodProblem', () => {
  const running = (restartCount: number, waiting?: string): Pod => ({
    metadata: { name: 'web-bbb-1' },
    spec: { containers: [{ name: 'app', image: 'x' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          ready: false,
          restartCount,
          image: 'x',
          state: waiting ? { waiting: { reason: waiting, message: 'back-off' } } : { running: {} },
          lastState: restartCount ? { terminated: { exitCode: 1, reason: 'Error' } } : {},
        },
      ],
    },
  });
  it.each<[string, Pod, number, string | undefined]>([
    ['running, no restarts', running(0), 2, undefined],
    ['two restarts are allowed with --max-restarts 2', running(2), 2, undefined],
    ['a third restart is not', running(3), 2, 'Restarts'],
    ['a crash loop is final at once', running(1, 'CrashLoopBackOff'), 5, 'CrashLoopBackOff'],
    ['an image that may not be pulled', running(0, 'ErrImageNeverPull'), 2, 'ErrImageNeverPull'],
  ])('%s', (_name, pod, max, reason) => {
    const p = rolloutPodProblem(pod, DEFAULT_GRACES, max);
    expect(p?.reason).toBe(reason);
    if (reason === 'Restarts')
      expect(p!.message).toBe('container app restarted 3 times (last exit: Error, exit code 1)');
  });
});
