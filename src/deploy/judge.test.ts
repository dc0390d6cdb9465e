import { describe, expect, it } from 'vitest';
import type { ContainerStatus, KubeObject, Pod } from '../kube/types.js';
import { DEFAULT_GRACES } from '../pods/problems.js';
import { RolloutJudge } from './judge.js';

const T0 = 1_800_000_000_000;
const LIMITS = { graces: DEFAULT_GRACES, maxRestarts: 2, readinessGraceMs: 60_000 };
const owner = [{ kind: 'Deployment', name: 'web', uid: 'd1', controller: true }];

/** Deployment web at revision 2, rolling out 1 replica; `status` as the controller reports it. */
const web = (
  status: object = { observedGeneration: 2, replicas: 2, updatedReplicas: 1 },
): KubeObject =>
  ({
    kind: 'Deployment',
    metadata: {
      name: 'web',
      uid: 'd1',
      generation: 2,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: { replicas: 1 },
    status,
  }) as KubeObject;
const replicaSets = [1, 2].map((rev) => ({
  kind: 'ReplicaSet',
  metadata: {
    name: `web-h${rev}`,
    ownerReferences: owner,
    labels: { 'pod-template-hash': `h${rev}` },
    annotations: { 'deployment.kubernetes.io/revision': String(rev) },
  },
}));
const pod = (
  hash: string,
  state: ContainerStatus['state'],
  ready = false,
  restartCount = 0,
): Pod => ({
  metadata: { name: `web-${hash}-x`, uid: `u-${hash}`, labels: { 'pod-template-hash': hash } },
  spec: { containers: [{ name: 'app', image: 'app:2' }] },
  status: {
    phase: state?.running ? 'Running' : 'Pending',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [{ name: 'app', ready, restartCount, image: 'app:2', state }],
  },
});
const waiting = (reason: string) => ({ waiting: { reason, message: `${reason}!` } });

describe('RolloutJudge', () => {
  it('an image that may not be pulled: stuck at once (exit 3), naming pod and container', () => {
    const v = new RolloutJudge(LIMITS).judge(
      web(),
      replicaSets,
      [pod('h2', waiting('ErrImageNeverPull'))],
      T0,
    );
    expect(v).toMatchObject({
      kind: 'stuck',
      reason: 'ErrImageNeverPull',
      pod: 'web-h2-x',
      container: 'app',
    });
  });

  it('an image pull back-off: waits its grace, then stuck', () => {
    const j = new RolloutJudge(LIMITS);
    const pods = [pod('h2', waiting('ImagePullBackOff'))];
    expect(j.judge(web(), replicaSets, pods, T0).kind).toBe('waiting');
    expect(j.judge(web(), replicaSets, pods, T0 + 119_000).kind).toBe('waiting');
    expect(j.judge(web(), replicaSets, pods, T0 + 120_000)).toMatchObject({
      kind: 'stuck',
      reason: 'ImagePullBackOff',
    });
  });

  it('a crash loop of the new revision: broken (exit 1); the old revision’s crash loop is not judged', () => {
    const j = new RolloutJudge(LIMITS);
    const old = pod('h1', waiting('CrashLoopBackOff'), false, 5);
    expect(j.judge(web(), replicaSets, [old, pod('h2', { running: {} })], T0).kind).toBe('waiting');
    expect(
      j.judge(
        web(),
        replicaSets,
        [old, pod('h2', waiting('CrashLoopBackOff'), false, 1)],
        T0 + 5_000,
      ),
    ).toMatchObject({
      kind: 'broken',
      reason: 'CrashLoopBackOff',
      pod: 'web-h2-x',
    });
  });

  it('more restarts than --max-restarts: broken, even while running', () => {
    const v = new RolloutJudge(LIMITS).judge(
      web(),
      replicaSets,
      [pod('h2', { running: {} }, false, 3)],
      T0,
    );
    expect(v).toMatchObject({ kind: 'broken', reason: 'Restarts' });
  });

  it('running but never ready: broken after --readiness-grace', () => {
    const j = new RolloutJudge(LIMITS);
    const pods = [pod('h2', { running: {} })];
    expect(j.judge(web(), replicaSets, pods, T0).kind).toBe('waiting');
    expect(j.judge(web(), replicaSets, pods, T0 + 59_000).kind).toBe('waiting');
    expect(j.judge(web(), replicaSets, pods, T0 + 60_000)).toMatchObject({
      kind: 'broken',
      reason: 'NotReady',
      message:
        'pod web-h2-x has run for 60 s without becoming ready (the readiness probe of container app does not pass)',
      // Its log is shown: the container whose probe fails.
      container: 'app',
    });
  });

  it('done when rolled out; a progress deadline is broken', () => {
    const done = web({
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 1,
      availableReplicas: 1,
    });
    expect(
      new RolloutJudge(LIMITS).judge(done, replicaSets, [pod('h2', { running: {} }, true)], T0)
        .kind,
    ).toBe('done');
    const late = web({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 1,
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: 'timed out',
        },
      ],
    });
    expect(new RolloutJudge(LIMITS).judge(late, replicaSets, [], T0)).toMatchObject({
      kind: 'broken',
      reason: 'ProgressDeadlineExceeded',
    });
  });

  it.each([
    [
      "the new revision's ReplicaSet: broken",
      'ReplicaSet "web-h2" has timed out progressing.',
      'broken',
    ],
    [
      'another ReplicaSet (an earlier rollout, before a rollback to this template): waiting',
      'ReplicaSet "web-h9" has timed out progressing.',
      'waiting',
    ],
  ])('ProgressDeadlineExceeded about %s', (_name, message, kind) => {
    const d = web({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 1,
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message },
      ],
    });
    expect(new RolloutJudge(LIMITS).judge(d, replicaSets, [], T0).kind).toBe(kind);
  });

  it('judges no pod before the controller has seen the new spec (its revision marks are the old ones)', () => {
    const unseen = web({ observedGeneration: 1, replicas: 1, updatedReplicas: 1 });
    const v = new RolloutJudge(LIMITS).judge(
      unseen,
      replicaSets,
      [pod('h2', waiting('ErrImageNeverPull'))],
      T0,
    );
    expect(v).toEqual({ kind: 'waiting', message: 'waiting for the spec update to be observed' });
  });

  it('waits while the new ReplicaSet is not known: no pod is judged', () => {
    const v = new RolloutJudge(LIMITS).judge(
      web(),
      [replicaSets[0]!],
      [pod('h2', waiting('ErrImageNeverPull'))],
      T0,
    );
    expect(v.kind).toBe('waiting');
  });
});
