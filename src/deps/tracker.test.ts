import { describe, expect, it } from 'vitest';
import { CONFIGMAPS, DEPLOYMENTS, PODS, SERVICES, STATEFULSETS } from '../kube/resources.js';
import type { ContainerStatus, Endpoints, KubeObject, Pod, Workload } from '../kube/types.js';
import type { Dependency } from '../manifests/deps.js';
import { DEFAULT_GRACES } from '../pods/problems.js';
import { DependencyTracker } from './tracker.js';

const T0 = Date.parse('2026-11-29T10:00:00Z');
const NS = 'ci';
const TIMEOUT = 300_000;
const DEADLINE = T0 + TIMEOUT;

function dep(res: Dependency['res'], name: string, object: KubeObject = {}): Dependency {
  const o = {
    ...object,
    metadata: { name, namespace: NS, uid: `uid-${name}`, ...object.metadata },
  };
  return {
    origin: { source: 'deps.yaml', index: 1, line: 1 },
    res,
    name,
    namespace: NS,
    object: o,
  };
}

function pod(
  name: string,
  opts: {
    ready?: boolean;
    phase?: string;
    waiting?: string;
    restarts?: number;
    labels?: Record<string, string>;
  } = {},
): Pod {
  const state: ContainerStatus['state'] = opts.waiting
    ? { waiting: { reason: opts.waiting } }
    : { running: {} };
  return {
    metadata: { name, namespace: NS, uid: `uid-${name}`, labels: opts.labels ?? {} },
    spec: { containers: [{ name: 'main', image: 'x' }] },
    status: {
      phase: opts.phase ?? (opts.waiting ? 'Pending' : 'Running'),
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'main',
          ready: Boolean(opts.ready),
          restartCount: opts.restarts ?? 0,
          image: 'x',
          state,
          ...(opts.restarts
            ? { lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }
            : {}),
        },
      ],
    },
  };
}

/** A tracker with Pod `db` created. */
function withPod(): DependencyTracker {
  const t = new DependencyTracker(DEFAULT_GRACES);
  const d = dep(PODS, 'db', pod('db'));
  t.created(d, d.object);
  return t;
}

describe('DependencyTracker: waiting for readiness', () => {
  it('a Pod: waiting while it is not Ready, ready once it is', () => {
    const t = withPod();
    t.onPod(pod('db'), false, T0);
    expect(t.verdict(T0, DEADLINE, TIMEOUT)).toEqual({
      state: 'waiting',
      why: 'pod/db container main runs but is not ready (readiness probe)',
    });
    t.onPod(pod('db', { ready: true }), false, T0 + 2_000);
    expect(t.verdict(T0 + 2_000, DEADLINE, TIMEOUT)).toEqual({ state: 'ready' });
  });

  it('a pod stuck in ErrImagePull fails once --image-pull-grace has passed, not before', () => {
    const t = withPod();
    t.onPod(pod('db', { waiting: 'ErrImagePull' }), false, T0);
    expect(t.verdict(T0 + DEFAULT_GRACES.imagePullMs - 1, DEADLINE, TIMEOUT).state).toBe('waiting');
    const v = t.verdict(T0 + DEFAULT_GRACES.imagePullMs, DEADLINE, TIMEOUT);
    expect(v).toMatchObject({
      state: 'failed',
      why: 'dependency pod/db: container main: ErrImagePull',
    });
    expect(v.state === 'failed' && v.t?.name).toBe('db');
  });

  it('past --deps-timeout: failed, naming what is not ready', () => {
    const t = withPod();
    t.onPod(pod('db'), false, T0);
    expect(t.verdict(DEADLINE, DEADLINE, TIMEOUT)).toMatchObject({
      state: 'failed',
      why: 'dependencies not ready after --deps-timeout 5 min 0 s: pod/db container main runs but is not ready (readiness probe)',
    });
  });

  it('a Service waits for a ready endpoint; a ConfigMap is ready once created', () => {
    const t = new DependencyTracker(DEFAULT_GRACES);
    const svc = dep(SERVICES, 'db', { spec: { selector: { app: 'db' } } } as KubeObject);
    t.created(svc, svc.object);
    const cm = dep(CONFIGMAPS, 'settings');
    t.created(cm, cm.object);
    expect(t.verdict(T0, DEADLINE, TIMEOUT)).toEqual({
      state: 'waiting',
      why: 'service/db has no ready endpoint (no ready pod with app=db)',
    });
    const e: Endpoints = {
      metadata: { name: 'db' },
      subsets: [{ addresses: [{ ip: '10.245.0.9' }] }],
    };
    t.onEndpoints(NS, e, false);
    expect(t.verdict(T0, DEADLINE, TIMEOUT)).toEqual({ state: 'ready' });
    t.onEndpoints(NS, e, true);
    expect(t.verdict(T0, DEADLINE, TIMEOUT).state).toBe('waiting');
  });

  it("a Deployment's pods are those its selector matches; a Deployment of another uid is not ours", () => {
    const t = new DependencyTracker(DEFAULT_GRACES);
    const object = {
      metadata: { generation: 1 },
      spec: { replicas: 1, selector: { matchLabels: { app: 'cache' } } },
      status: { observedGeneration: 1, readyReplicas: 0 },
    } as Workload;
    const d = dep(DEPLOYMENTS, 'cache', object);
    t.created(d, d.object);
    t.onPod(pod('cache-1', { waiting: 'ErrImageNeverPull', labels: { app: 'cache' } }), false, T0);
    t.onPod(pod('other', { waiting: 'ErrImageNeverPull', labels: { app: 'other' } }), false, T0);
    expect(t.verdict(T0, DEADLINE, TIMEOUT)).toMatchObject({
      state: 'failed',
      why: 'dependency deployment/cache (pod/cache-1): container main: ErrImageNeverPull',
    });
    const ready = {
      ...d.object,
      status: { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1 },
    };
    t.onWorkload(
      DEPLOYMENTS,
      NS,
      { ...ready, metadata: { ...ready.metadata, uid: 'newer' } },
      false,
    );
    expect(t.tracked[0]!.object.metadata?.uid).toBe('uid-cache');
  });

  it('a known pod missing from a new list was deleted: the Pod dependency fails', () => {
    const t = withPod();
    t.onPod(pod('db', { ready: true }), false, T0);
    const changed = t.onPodList(NS, [], T0 + 1_000);
    expect(changed.map((c) => [c.pod.metadata?.name, c.deleted])).toEqual([['db', true]]);
    expect(t.verdict(T0 + 1_000, DEADLINE, TIMEOUT)).toMatchObject({
      state: 'failed',
      why: 'dependency pod/db was deleted',
    });
    // A deleted pod stays deleted: a late event for it is ignored.
    expect(t.onPod(pod('db', { ready: true }), false, T0 + 2_000)).toBe(false);
  });
});

describe('DependencyTracker: breaking while the tests run', () => {
  const ready = () => {
    const t = withPod();
    t.onPod(pod('db', { ready: true }), false, T0);
    expect(t.verdict(T0, DEADLINE, TIMEOUT).state).toBe('ready');
    return t;
  };

  it('nothing breaks before the dependencies were ready', () => {
    const t = withPod();
    t.onPod(pod('db', { restarts: 1 }), false, T0);
    expect(t.breakage()).toBeUndefined();
  });

  it.each([
    [
      'a container restarts (OOMKilled)',
      () => pod('db', { ready: true, restarts: 1 }),
      false,
      'dependency pod/db failed while the tests ran: container main of pod/db restarted (OOMKilled, exit code 137)',
    ],
    [
      'the pod is deleted',
      () => pod('db', { ready: true }),
      true,
      'dependency pod/db failed while the tests ran: pod/db was deleted',
    ],
  ])('%s: reported once', (_name, next, deleted, what) => {
    const t = ready();
    t.markReady();
    expect(t.breakage()).toBeUndefined();
    t.onPod(next(), deleted, T0 + 10_000);
    expect(t.breakage()?.what).toBe(what);
    expect(t.breakage()).toBeUndefined();
  });
});

describe('DependencyTracker: what only events tell', () => {
  it('a Pod whose Secret volume cannot be mounted fails after --config-error-grace, named', () => {
    const t = new DependencyTracker(DEFAULT_GRACES);
    const d = dep(PODS, 'db');
    t.created(d, d.object);
    const creating = pod('db', { waiting: 'ContainerCreating' });
    t.onPod(creating, false, T0);
    expect(t.eventChecks(T0 + 1_000)).toEqual([]);
    const due = t.eventChecks(T0 + 5_000);
    expect(due.map((o) => o.metadata?.name)).toEqual(['db']);
    // Read at most every 5 s.
    expect(t.eventChecks(T0 + 6_000)).toEqual([]);
    t.onEvents(
      creating,
      [
        {
          type: 'Warning',
          reason: 'FailedMount',
          message: 'MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
        },
      ],
      T0 + 5_000,
    );
    expect(t.verdict(T0 + 6_000, DEADLINE, TIMEOUT).state).toBe('waiting');
    const v = t.verdict(T0 + 5_000 + DEFAULT_GRACES.configErrorMs, DEADLINE, TIMEOUT);
    expect(v).toMatchObject({
      state: 'failed',
      why: 'dependency pod/db: FailedMount: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
    });
  });

  it('a Deployment that cannot create pods (ReplicaFailure) fails after --pod-create-grace', () => {
    const t = new DependencyTracker(DEFAULT_GRACES);
    const d = dep(DEPLOYMENTS, 'api', {
      spec: { replicas: 1, selector: { matchLabels: { app: 'api' } } },
    } as Workload);
    t.created(d, d.object);
    const failing: Workload = {
      ...(d.object as Workload),
      status: {
        observedGeneration: 1,
        conditions: [
          {
            type: 'ReplicaFailure',
            status: 'True',
            reason: 'FailedCreate',
            message:
              'pods "api-5d8f-" is forbidden: error looking up service account ci/api: serviceaccount "api" not found',
          },
        ],
      },
    };
    t.onWorkload(DEPLOYMENTS, NS, failing, false);
    expect(t.verdict(T0, DEADLINE, TIMEOUT).state).toBe('waiting');
    const v = t.verdict(T0 + DEFAULT_GRACES.podCreateMs, DEADLINE, TIMEOUT);
    expect(v.state).toBe('failed');
    expect(v.state === 'failed' ? v.why : '').toMatch(
      /^dependency deployment\/api: no pod can be created: pods "api-5d8f-" is forbidden: .*serviceaccount "api" not found$/,
    );
  });

  it('a StatefulSet without pods has its FailedCreate events read', () => {
    const t = new DependencyTracker(DEFAULT_GRACES);
    const d = dep(STATEFULSETS, 'cache', {
      spec: { replicas: 1, selector: { matchLabels: { app: 'cache' } } },
    } as Workload);
    t.created(d, d.object);
    expect(t.eventChecks(T0)).toEqual([]);
    expect(t.eventChecks(T0 + 5_000).map((o) => o.metadata?.name)).toEqual(['cache']);
    t.onEvents(
      d.object,
      [
        {
          type: 'Warning',
          reason: 'FailedCreate',
          message: 'create Pod cache-0 in StatefulSet cache failed error: exceeded quota: q',
        },
      ],
      T0 + 5_000,
    );
    expect(t.verdict(T0 + 6_000, DEADLINE, TIMEOUT).state).toBe('waiting');
    expect(t.verdict(T0 + 6_000 + DEFAULT_GRACES.podCreateMs, DEADLINE, TIMEOUT)).toMatchObject({
      state: 'failed',
      why: 'dependency statefulset/cache: no pod can be created: create Pod cache-0 in StatefulSet cache failed error: exceeded quota: q',
    });
  });
});
