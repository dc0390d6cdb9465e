import { describe, expect, it } from 'vitest';
import { CancelledError, InfraError, InputError, RunTimeoutError } from '../core/errors.js';
import type { ContainerStatus, Job, JobCondition, Pod } from '../kube/types.js';
import type { TestJob } from '../manifests/jobs.js';
import { DEFAULT_GRACES } from '../pods/problems.js';
import { COLLECTOR } from '../pods/sidecars.js';
import {
  CONTROLLER_WINDOW_MS,
  EVENTS_AFTER_MS,
  existingJob,
  informerSelectors,
  JobTracker,
  sidecarHint,
  type TrackerNote,
} from './tracker.js';

const T0 = Date.parse('2026-11-29T10:00:00Z');
const NS = 'ci';

function plan(name: string): TestJob {
  return {
    origin: { source: 'tests.yaml', index: 1, line: 1 },
    name,
    namespace: NS,
    job: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS } },
  };
}

function job(
  name: string,
  conditions: [JobCondition['type'], string?][] = [],
  uid = `uid-${name}`,
): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS, uid },
    spec: { backoffLimit: 1, template: { spec: { containers: [] } } },
    status: {
      startTime: new Date(T0).toISOString(),
      conditions: conditions.map(([type, reason]) => ({
        type,
        status: 'True',
        reason,
        lastTransitionTime: new Date(T0 + 30_000).toISOString(),
      })),
    },
  };
}

function pod(
  name: string,
  owner: string,
  phase: string,
  state: ContainerStatus['state'] = {},
  extra: Partial<NonNullable<Pod['metadata']>> = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      ownerReferences: [{ kind: 'Job', name: owner, uid: `uid-${owner}`, controller: true }],
      ...extra,
    },
    spec: { containers: [{ name: 'main', image: 'x' }] },
    status: {
      phase,
      containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'x', state }],
    },
  };
}

const exited = (exitCode: number) => ({
  terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' },
});
const waiting = (reason: string) => ({ waiting: { reason } });

/** A tracker of a `run` of one Job `t`, created. */
function running(names = ['t']): JobTracker {
  const tracker = new JobTracker(
    { runId: 'r1', jobs: names.map(plan), graces: DEFAULT_GRACES },
    T0,
  );
  for (const n of names) tracker.created(plan(n), job(n), T0);
  return tracker;
}

const messages = (notes: TrackerNote[], kind: 'info' | 'warn') =>
  notes.flatMap((n) => (n.kind === kind ? [n.message] : []));
const followed = (notes: TrackerNote[]) =>
  notes.flatMap((n) =>
    n.kind === 'follow' ? [`${n.pod.metadata?.name}${n.deleted ? ' (deleted)' : ''}`] : [],
  );

describe('JobTracker', () => {
  it('replays what the watch told before the create was answered: the Job and its pods', () => {
    const t = new JobTracker({ runId: 'r1', jobs: [plan('t')], graces: DEFAULT_GRACES }, T0);
    // The watch is quicker than the create's answer: the Job Complete, its pod Succeeded.
    expect(t.onJob(job('t', [['Complete']]), false, T0 + 1)).toEqual([]);
    expect(t.onPod(pod('t-1', 't', 'Succeeded', exited(0)), false, T0 + 2)).toEqual([]);
    // A stale Job of the same name (another uid) is not replayed.
    t.onJob(job('t', [['Failed']], 'uid-old'), false, T0 + 3);
    const notes = t.created(plan('t'), job('t'), T0 + 4);
    expect(messages(notes, 'info')).toEqual(['job/t Complete']);
    expect(followed(notes)).toEqual(['t-1']);
    expect(t.progress().settled).toBe(true);
    // Replayed once.
    expect(t.created(plan('t'), job('t'), T0 + 5)).toEqual([]);
  });

  it.each([
    // [case, Job status, pods seen (name, phase, deleted), pods left to delete or undefined]
    ['one pod Succeeded', { succeeded: 1 }, [['t-1', 'Succeeded', false]], ['t-1']],
    [
      'a retry: a failed pod and a succeeded one',
      { succeeded: 1, failed: 1 },
      [
        ['t-1', 'Failed', false],
        ['t-2', 'Succeeded', false],
      ],
      ['t-1', 't-2'],
    ],
    [
      'a failed pod deleted meanwhile counts as seen',
      { succeeded: 1, failed: 1 },
      [
        ['t-1', 'Failed', true],
        ['t-2', 'Succeeded', false],
      ],
      ['t-2'],
    ],
    [
      'a pod the watch has not told of yet',
      { succeeded: 1, failed: 1 },
      [['t-2', 'Succeeded', false]],
      undefined,
    ],
    [
      'a pod still running',
      { succeeded: 1 },
      [
        ['t-1', 'Succeeded', false],
        ['t-2', 'Running', false],
      ],
      undefined,
    ],
  ] as const)('endedPods: %s', (_, status, seen, left) => {
    const t = running();
    for (const [name, phase, deleted] of seen)
      t.onPod(pod(name, 't', phase, exited(0)), deleted, T0 + 1);
    t.onJob(
      { ...job('t', [['Complete']]), status: { ...job('t', [['Complete']]).status, ...status } },
      false,
      T0 + 2,
    );
    const ended = t.endedPods().get(`${NS}/t`);
    expect(ended?.map((p) => p.metadata?.name)).toEqual(left);
  });

  it('endedPods: nothing for a Job that has not finished', () => {
    const t = running();
    t.onPod(pod('t-1', 't', 'Succeeded', exited(0)), false, T0 + 1);
    expect(t.endedPods().size).toBe(0);
    expect(t.allPodsSeen()).toBe(false);
    const done = job('t', [['Complete']]);
    t.onJob({ ...done, status: { ...done.status, succeeded: 1 } }, false, T0 + 2);
    expect(t.allPodsSeen()).toBe(true);
  });

  it('retries with backoffLimit: both attempts followed, Failed once the Job says so', () => {
    const t = running();
    const notes = [
      ...t.onPod(pod('t-1', 't', 'Failed', exited(1)), false, T0 + 1_000),
      ...t.onPod(pod('t-2', 't', 'Running', { running: {} }), false, T0 + 11_000),
    ];
    expect(followed(notes)).toEqual(['t-1', 't-2']);
    expect(t.progress()).toEqual({ appeared: true, stuck: false, settled: false });
    t.onPod(pod('t-2', 't', 'Failed', exited(1)), false, T0 + 12_000);
    const done = t.onJob(job('t', [['Failed', 'BackoffLimitExceeded']]), false, T0 + 13_000);
    expect(messages(done, 'info')).toEqual(['job/t Failed (BackoffLimitExceeded)']);
    expect(t.progress().settled).toBe(true);
    const outcome = t.outcome(T0 + 14_000);
    expect(outcome).toMatchObject({ kind: 'failed', message: 'job/t failed' });
    expect(outcome.jobs[0]).toMatchObject({ result: 'Failed', attempts: 2, exitCodes: [1] });
  });

  it('a pod deleted by someone else while the Job runs: warned once, once the Job still runs 5 s later', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    const p = pod('t-1', 't', 'Running', { running: {} });
    const first = t.onPod(
      { ...p, metadata: { ...p.metadata, deletionTimestamp: 'x' } },
      false,
      T0 + 1_000,
    );
    const second = t.onPod(p, true, T0 + 2_000);
    expect(messages(first, 'warn')).toEqual([]);
    expect(messages(second, 'warn')).toEqual([]);
    expect(followed(second)).toEqual(['t-1 (deleted)']);
    expect(messages(t.tick(T0 + 1_000 + CONTROLLER_WINDOW_MS - 1), 'warn')).toEqual([]);
    expect(messages(t.tick(T0 + 1_000 + CONTROLLER_WINDOW_MS), 'warn')).toEqual([
      'pod/t-1 of job/t was deleted before it ended, not by kubestep nor by the Job controller',
    ]);
    expect(messages(t.tick(T0 + 20_000), 'warn')).toEqual([]);
    expect(t.summaries(T0 + 20_000)[0]!.pods[0]!.deleted).toBe(true);
  });

  it("the Job controller's surplus pods, deleted before the Job's Failed arrives: not someone else's, and not the reason", () => {
    // parallelism 2: pod t-1 fails; the controller marks the Job Failed and deletes t-2, whose
    // events come first.
    const t = running();
    t.onJob(job('t'), false, T0);
    t.onPod(pod('t-1', 't', 'Failed', exited(1)), false, T0 + 1_000);
    const surplus = pod('t-2', 't', 'Running', { running: {} });
    const notes = [
      ...t.onPod(
        {
          ...surplus,
          metadata: {
            ...surplus.metadata,
            creationTimestamp: new Date(T0 + 500).toISOString(),
            deletionTimestamp: 'x',
          },
        },
        false,
        T0 + 2_000,
      ),
      ...t.onJob(job('t', [['Failed', 'BackoffLimitExceeded']]), false, T0 + 3_000),
      ...t.tick(T0 + 30_000),
    ];
    expect(messages(notes, 'warn')).toEqual([]);
    const [summary] = t.summaries(T0 + 30_000);
    expect(summary!.pods.some((p) => p.deleted)).toBe(false);
    expect(summary!.explanation).toMatch(/last: container main of pod\/t-1 exited with code 1$/);
  });

  it('many Jobs without pods: their events are read 5 at a time, those read longest ago first', () => {
    const names = Array.from({ length: 12 }, (_, i) => `j${i}`);
    const t = running(names);
    for (const n of names) t.onJob(job(n), false, T0);
    const at = (s: number) =>
      t.eventChecks(T0 + EVENTS_AFTER_MS + s * 1_000).map((o) => o.metadata?.name);
    expect(at(0)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    expect(at(1)).toEqual(['j5', 'j6', 'j7', 'j8', 'j9']);
    expect(at(2)).toEqual(['j10', 'j11']);
    // 5 s after their first read, the first ones again: 12 Jobs are read every 5 s, not 60 s.
    expect(at(4)).toEqual([]);
    expect(at(5)).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
  });

  it('a Job whose pods cannot be created (FailedCreate): its events are read, stuck after --pod-create-grace', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    expect(t.eventChecks(T0 + EVENTS_AFTER_MS - 1)).toEqual([]);
    const due = t.eventChecks(T0 + EVENTS_AFTER_MS);
    expect(due.map((o) => o.metadata?.name)).toEqual(['t']);
    // Read at most every 5 s.
    expect(t.eventChecks(T0 + EVENTS_AFTER_MS + 1_000)).toEqual([]);
    const failedCreate = {
      type: 'Warning',
      reason: 'FailedCreate',
      message:
        'Error creating: pods "t-" is forbidden: error looking up service account ci/tests: serviceaccount "tests" not found',
    };
    t.onEvents(due[0]!, [failedCreate], T0 + 6_000);
    t.tick(T0 + 6_000 + DEFAULT_GRACES.podCreateMs - 1);
    expect(t.progress().stuck).toBe(false);
    t.tick(T0 + 6_000 + DEFAULT_GRACES.podCreateMs);
    expect(t.progress().stuck).toBe(true);
    const [summary] = t.summaries(T0 + 70_000);
    expect(summary!.result).toBe('Stuck');
    expect(summary!.explanation).toBe(
      'no pod can be created: Error creating: pods "t-" is forbidden: error looking up service account ci/tests: serviceaccount "tests" not found (for 1 min 0 s)',
    );
    const [e] = t.explanations([summary!]);
    expect(e!.message).toMatch(
      /what to do: create the ServiceAccount tests in the Job's namespace/,
    );
    expect(e!.subjects.map((x) => x.label)).toEqual(['job/t']);
  });

  it('a pod appearing clears a FailedCreate (a quota that freed up)', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    const [j] = t.eventChecks(T0 + EVENTS_AFTER_MS);
    t.onEvents(
      j!,
      [{ type: 'Warning', reason: 'FailedCreate', message: 'exceeded quota: q' }],
      T0 + 5_000,
    );
    t.onPod(pod('t-1', 't', 'Running', { running: {} }), false, T0 + 20_000);
    t.tick(T0 + 600_000);
    expect(t.progress().stuck).toBe(false);
  });

  it('a pod being created with FailedMount events: stuck after --config-error-grace, the Secret named', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    const creating = pod('t-1', 't', 'Pending', { waiting: { reason: 'ContainerCreating' } });
    t.onPod(creating, false, T0);
    const due = t.eventChecks(T0 + EVENTS_AFTER_MS);
    expect(due.map((o) => o.metadata?.name)).toEqual(['t-1']);
    const mount = {
      type: 'Warning',
      reason: 'FailedMount',
      message: 'MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found',
    };
    t.onEvents(due[0]!, [mount], T0 + 5_000);
    t.tick(T0 + 5_000 + DEFAULT_GRACES.configErrorMs);
    const [summary] = t.summaries(T0 + 40_000);
    expect(summary!.result).toBe('Stuck');
    expect(summary!.reason).toBe('FailedMount');
    expect(summary!.explanation).toMatch(
      /^pod\/t-1 cannot start: FailedMount: MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found/,
    );
    const [e] = t.explanations([summary!]);
    expect(e!.message).toMatch(/what to do: create the Secret db-creds in the pod's namespace/);
  });

  it('a pod that ended is not "deleted by someone else" when it goes', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    expect(messages(t.onPod(pod('t-1', 't', 'Failed', exited(1)), true, T0), 'warn')).toEqual([]);
  });

  it.each([
    [
      'recovers before its grace',
      [waiting('ErrImagePull'), { running: {} }],
      [60_000, 90_000],
      false,
    ],
    ['stays in ErrImagePull past --image-pull-grace', [waiting('ErrImagePull')], [0], true],
    // The kubelet alternates the two while one pull problem lasts: one clock, not restarted.
    [
      'alternates ErrImagePull and ImagePullBackOff',
      [waiting('ErrImagePull'), waiting('ImagePullBackOff'), waiting('ErrImagePull')],
      [0, 50_000, 100_000],
      true,
    ],
  ])('a pod that %s', (_name, states, atMs, stuck) => {
    const t = running();
    t.onJob(job('t'), false, T0);
    states.forEach((s, i) => t.onPod(pod('t-1', 't', 'Pending', s), false, T0 + atMs[i]!));
    t.tick(T0 + DEFAULT_GRACES.imagePullMs - 1);
    expect(t.progress().stuck).toBe(false);
    t.tick(T0 + DEFAULT_GRACES.imagePullMs + 1);
    expect(t.progress().stuck).toBe(stuck);
    if (stuck) {
      expect(t.outcome(T0 + 200_000)).toMatchObject({
        kind: 'infra-error',
        message: 'job/t (ErrImagePull) cannot start',
      });
    }
  });

  it('a reason that will not fix itself (ErrImageNeverPull) is stuck at once', () => {
    const t = running();
    t.onJob(job('t'), false, T0);
    t.onPod(pod('t-1', 't', 'Pending', waiting('ErrImageNeverPull')), false, T0);
    expect(t.progress().stuck).toBe(true);
    const [e] = t.explanations(t.outcome(T0).jobs);
    expect(e!.title).toBe('job/t cannot start');
    expect(e!.message).toMatch(/what to do: the image is not on the node/);
    expect(e!.subjects.map((s) => s.label)).toEqual(['pod/t-1', 'job/t']);
  });

  it('Complete with a retried pod still being read: settled, and the old pod still followed', () => {
    const t = running();
    t.onPod(pod('t-1', 't', 'Failed', exited(1)), false, T0);
    t.onPod(pod('t-2', 't', 'Succeeded', exited(0)), false, T0 + 10_000);
    t.onJob(job('t', [['Complete']]), false, T0 + 11_000);
    expect(t.progress().settled).toBe(true);
    // The shell catches up with the final pod states after the Job settled: still followed.
    expect(followed(t.onPod(pod('t-1', 't', 'Failed', exited(1)), false, T0 + 12_000))).toEqual([
      't-1',
    ]);
    expect(t.outcome(T0 + 12_000)).toMatchObject({ kind: 'succeeded' });
    expect(t.outcome(T0 + 12_000).jobs[0]).toMatchObject({ result: 'Complete', attempts: 2 });
  });

  it.each([
    ['FailureTarget', 'Failed', 'failed'],
    ['SuccessCriteriaMet', 'Complete', 'succeeded'],
  ] as const)('%s before %s: not settled until the terminal condition', (first, terminal, kind) => {
    // Kubernetes ≥ 1.31 sets these while pods still terminate; example from
    // https://kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions
    const t = running();
    expect(t.onJob(job('t', [[first]]), false, T0)).toEqual([]);
    expect(t.progress().settled).toBe(false);
    t.onJob(job('t', [[first], [terminal]]), false, T0 + 1_000);
    expect(t.progress().settled).toBe(true);
    expect(t.outcome(T0 + 2_000).kind).toBe(kind);
  });

  it('a Job deleted before it finished: warned, settled, infra-error', () => {
    const t = running();
    const notes = t.onJob(job('t'), true, T0 + 5_000);
    expect(messages(notes, 'warn')).toEqual(['job/t was deleted by someone else while it ran']);
    expect(t.progress().settled).toBe(true);
    expect(t.outcome(T0 + 6_000)).toMatchObject({
      kind: 'infra-error',
      message: 'job/t deleted by someone else before it finished',
    });
  });

  it('ignores a newer Job of the same name and pods of other Jobs', () => {
    const t = running();
    expect(t.onJob(job('t', [['Complete']], 'other-uid'), false, T0)).toEqual([]);
    expect(t.onPod(pod('x-1', 'x', 'Running'), false, T0)).toEqual([]);
    expect(t.progress().settled).toBe(false);
  });

  it('settles only when every Job has finished', () => {
    const t = running(['a', 'b']);
    t.onJob(job('a', [['Complete']]), false, T0);
    expect(t.progress().settled).toBe(false);
    t.onJob(job('b', [['Failed', 'DeadlineExceeded']]), false, T0);
    expect(t.progress().settled).toBe(true);
    expect(t.outcome(T0)).toMatchObject({ kind: 'failed', message: 'job/b failed' });
  });
});

describe('JobTracker for kubestep wait', () => {
  const waitFor = (names: string[], selector?: string) =>
    new JobTracker(
      {
        runId: 'w',
        jobs: names.map((n) => existingJob(NS, n)),
        graces: DEFAULT_GRACES,
        existing: { namespace: NS, selector, appearTimeoutMs: 60_000 },
      },
      T0,
    );

  it('a named Job that appears late is adopted when it is seen', () => {
    const t = waitFor(['t']);
    expect(t.progress().appeared).toBe(false);
    expect(t.missing()).toEqual(['job/t']);
    const notes = t.onJob(job('t'), false, T0 + 20_000);
    expect(notes.map((n) => n.kind)).toEqual(['adopted', 'info']);
    expect(messages(notes, 'info')).toEqual(['found job/t in namespace ci']);
    expect(t.progress()).toEqual({ appeared: true, stuck: false, settled: false });
  });

  it('warns about a Job that finished long before the wait started (kubectl apply kept it)', () => {
    const t = new JobTracker(
      {
        runId: 'w',
        jobs: [existingJob(NS, 't')],
        graces: DEFAULT_GRACES,
        existing: { namespace: NS, appearTimeoutMs: 1 },
      },
      T0 + 3_600_000,
    );
    const [warning] = messages(t.onJob(job('t', [['Complete']]), false, T0 + 3_600_000), 'warn');
    expect(warning).toMatch(/^job\/t finished 59 min 30 s before this wait started/);
  });

  it('a selector adopts each matching Job until the run is settled', () => {
    const t = waitFor([], 'suite=e2e');
    expect(t.progress().appeared).toBe(false);
    t.onJob(job('a', [['Complete']]), false, T0);
    expect(t.progress()).toMatchObject({ appeared: true, settled: true });
    expect(t.onJob(job('b'), false, T0 + 1_000)).toEqual([]);
    expect(t.summaries(T0 + 1_000).map((j) => j.name)).toEqual(['a']);
  });
});

describe('JobTracker.stoppedOutcome', () => {
  it.each([
    ['SIGTERM', new InfraError('aborted'), new CancelledError('SIGTERM'), true, 'cancelled'],
    ['--timeout', new InfraError('aborted'), new RunTimeoutError(60_000), true, 'timed-out'],
    [
      'an error after a Job was created',
      new InfraError('API down'),
      undefined,
      true,
      'infra-error',
    ],
    [
      'an error before any Job was created',
      new InfraError('forbidden'),
      undefined,
      false,
      undefined,
    ],
    ['bad input', new InputError('rejected by the API server'), undefined, true, undefined],
  ])('%s → %s', (_name, err, abortReason, created, kind) => {
    const t = new JobTracker({ runId: 'r', jobs: [plan('t')], graces: DEFAULT_GRACES }, T0);
    if (created) t.created(plan('t'), job('t'), T0);
    expect(t.stoppedOutcome(err, abortReason, T0)?.kind).toBe(kind);
  });

  it('a timeout names the Jobs still running', () => {
    const t = running(['a', 'b']);
    t.onJob(job('a', [['Complete']]), false, T0);
    t.onJob(job('b'), false, T0);
    expect(t.stoppedOutcome(new Error('x'), new RunTimeoutError(60_000), T0)).toMatchObject({
      kind: 'timed-out',
      message: '--timeout of 60 s passed while job/b still ran',
    });
  });
});

describe('informerSelectors', () => {
  const base = { runId: 'r1', graces: DEFAULT_GRACES };
  it.each([
    [
      'run: by run id',
      { ...base, jobs: [plan('a')] },
      { labelSelector: 'kubestep.dev/run-id=r1' },
      { labelSelector: 'kubestep.dev/run-id=r1' },
    ],
    [
      'wait job/a',
      { ...base, jobs: [existingJob(NS, 'a')], existing: { namespace: NS, appearTimeoutMs: 1 } },
      { fieldSelector: 'metadata.name=a' },
      { labelSelector: 'job-name in (a)' },
    ],
    [
      'wait job/a job/b',
      {
        ...base,
        jobs: [existingJob(NS, 'a'), existingJob(NS, 'b')],
        existing: { namespace: NS, appearTimeoutMs: 1 },
      },
      {},
      { labelSelector: 'job-name in (a,b)' },
    ],
    [
      'wait -l suite=e2e',
      { ...base, jobs: [], existing: { namespace: NS, selector: 'suite=e2e', appearTimeoutMs: 1 } },
      { labelSelector: 'suite=e2e' },
      { labelSelector: 'job-name' },
    ],
  ])('%s', (_name, p, jobs, pods) => {
    expect(informerSelectors(p)).toEqual({ jobs, pods });
  });
});

describe('JobTracker with sidecars', () => {
  /** A pod of job `owner` with container main in `main` and sidecar `proxy` in `proxy`. */
  function withProxy(
    name: string,
    owner: string,
    main: ContainerStatus['state'],
    proxy: ContainerStatus['state'] = { running: {} },
    extra: Partial<NonNullable<Pod['metadata']>> = {},
  ): Pod {
    const p = pod(name, owner, 'Running', main, extra);
    p.spec!.containers.push({ name: 'istio-proxy', image: 'proxy' });
    p.status!.containerStatuses!.push({
      name: 'istio-proxy',
      ready: true,
      restartCount: 0,
      image: 'proxy',
      state: proxy,
    });
    return p;
  }
  const ends = (notes: TrackerNote[]) =>
    notes.flatMap((n) => (n.kind === 'end-pod' ? [n.pod.metadata?.name] : []));

  it('a main container that succeeded decides the Job while istio-proxy runs on', () => {
    const t = running();
    t.onPod(withProxy('t-1', 't', { running: {} }), false, T0 + 1_000);
    expect(t.progress().settled).toBe(false);
    const notes = t.onPod(withProxy('t-1', 't', exited(0)), false, T0 + 2_000);
    expect(messages(notes, 'info')).toEqual([
      "pod/t-1: its main containers succeeded while sidecar istio-proxy still ran: the pod's result is theirs",
      'job/t Complete, by its main containers (the sidecars are stopped with the Job)',
    ]);
    expect(ends(notes)).toEqual([]);
    expect(t.progress().settled).toBe(true);
    const outcome = t.outcome(T0 + 3_000);
    expect(outcome.kind).toBe('succeeded');
    expect(outcome.jobs[0]).toMatchObject({
      result: 'Complete',
      explanation: 'succeeded; decided by the main containers (sidecar istio-proxy still ran)',
      exitCodes: [0],
      // It ended when its main containers decided it, not when the summary was made.
      finishedAt: new Date(T0 + 2_000).toISOString(),
    });
    expect(outcome.jobs[0]!.pods[0]!.containers.map((c) => [c.name, !!c.sidecar])).toEqual([
      ['main', false],
      ['istio-proxy', true],
    ]);
    expect(t.sidecarPods()).toEqual(new Map([[`${NS}/t`, ['t-1']]]));
    expect(t.runningSidecars()).toEqual(new Set(['uid-t-1/istio-proxy']));
  });

  it('a failed main container: the pod is ended for a retry, its deletion is no one else’s, the second failure fails the Job', () => {
    const t = running(); // backoffLimit 1
    const first = t.onPod(withProxy('t-1', 't', exited(3)), false, T0 + 1_000);
    expect(ends(first)).toEqual(['t-1']);
    expect(t.progress().settled).toBe(false);
    // kubestep deletes it; the controller makes the next pod.
    const deleting = { deletionTimestamp: new Date(T0 + 2_000).toISOString() };
    const gone = [
      ...t.onPod(withProxy('t-1', 't', exited(3), { running: {} }, deleting), false, T0 + 2_000),
      ...t.onPod(withProxy('t-1', 't', exited(3), exited(137), deleting), true, T0 + 3_000),
      ...t.tick(T0 + 3_000 + CONTROLLER_WINDOW_MS),
    ];
    expect(messages(gone, 'warn')).toEqual([]);
    const second = t.onPod(withProxy('t-2', 't', exited(3)), false, T0 + 9_000);
    expect(ends(second)).toEqual([]);
    expect(messages(second, 'info')).toContain(
      'job/t Failed (BackoffLimitExceeded), by its main containers (the sidecars are stopped with the Job)',
    );
    const outcome = t.outcome(T0 + 10_000);
    expect(outcome.kind).toBe('failed');
    expect(outcome.jobs[0]).toMatchObject({
      result: 'Failed',
      reason: 'BackoffLimitExceeded',
      attempts: 2,
      exitCodes: [3],
    });
    expect(outcome.jobs[0]!.explanation).toBe(
      'failed 2 attempts (backoffLimit 1); last: container main of pod/t-2 exited with code 3; decided by the main containers (sidecar istio-proxy still ran)',
    );
  });

  it('the artifacts collector: its pod is collected before it is ended, once, without a word', () => {
    const t = running(); // backoffLimit 1
    const withCollector = (name: string, main: ContainerStatus['state']) => {
      const p = pod(name, 't', 'Running', main);
      p.spec!.containers.push({ name: COLLECTOR, image: 'kubestep' });
      p.status!.containerStatuses!.push({
        name: COLLECTOR,
        ready: true,
        restartCount: 0,
        image: 'kubestep',
        state: { running: {} },
      });
      return p;
    };
    expect(t.onPod(withCollector('t-1', { running: {} }), false, T0 + 500)).not.toContainEqual(
      expect.objectContaining({ kind: 'collect' }),
    );
    const notes = t.onPod(withCollector('t-1', exited(3)), false, T0 + 1_000);
    const kinds = notes.map((n) => n.kind).filter((k) => k === 'collect' || k === 'end-pod');
    expect(kinds).toEqual(['collect', 'end-pod']);
    expect(messages(notes, 'info')).toEqual([]);
    // The same state again: nothing new.
    const again = t.onPod(withCollector('t-1', exited(3)), false, T0 + 1_500);
    expect(again.filter((n) => n.kind === 'collect' || n.kind === 'end-pod')).toEqual([]);
    // A Job decided by its last pod is collected too.
    const last = t.onPod(withCollector('t-2', exited(3)), false, T0 + 9_000);
    expect(last.filter((n) => n.kind === 'collect').map((n) => n.pod.metadata?.name)).toEqual([
      't-2',
    ]);
    expect(t.progress().settled).toBe(true);
  });

  it('completions: 2 counts pods whose main containers succeeded; the first is ended', () => {
    const t = new JobTracker(
      { runId: 'r1', jobs: [plan('t')], graces: DEFAULT_GRACES, sidecars: ['shipper'] },
      T0,
    );
    const j = job('t');
    j.spec!.completions = 2;
    t.created(plan('t'), j, T0);
    t.onJob(j, false, T0);
    const named = (name: string) => {
      const p = pod(name, 't', 'Running', exited(0));
      p.spec!.containers.push({ name: 'shipper', image: 'x' });
      p.status!.containerStatuses!.push({
        name: 'shipper',
        ready: true,
        restartCount: 0,
        image: 'x',
        state: { running: {} },
      });
      return p;
    };
    expect(ends(t.onPod(named('t-1'), false, T0 + 1_000))).toEqual(['t-1']);
    expect(t.progress().settled).toBe(false);
    t.onPod(named('t-2'), false, T0 + 3_000);
    expect(t.progress().settled).toBe(true);
    expect(t.outcome(T0 + 4_000).jobs[0]!.explanation).toBe(
      '2 of 2 pods succeeded; decided by the main containers (sidecar shipper still ran)',
    );
  });

  it('a sidecar that ends by itself changes nothing: the Job decides', () => {
    const t = running();
    const notes = t.onPod(withProxy('t-1', 't', exited(0), exited(0)), false, T0 + 1_000);
    expect(messages(notes, 'info')).toEqual([]);
    expect(t.progress().settled).toBe(false);
  });
});

describe('sidecarHint', () => {
  const withCollector = (p: Pod): Pod => {
    p.spec!.containers.push({ name: COLLECTOR, image: 'k' });
    p.status!.containerStatuses!.push({
      name: COLLECTOR,
      ready: true,
      restartCount: 0,
      image: 'k',
      state: { running: {} },
    });
    return p;
  };
  const twoContainers = (
    main: ContainerStatus['state'],
    shipper: ContainerStatus['state'],
  ): Pod => ({
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'main', image: 'x' },
        { name: 'shipper', image: 'x' },
      ],
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'main', ready: false, restartCount: 0, image: 'x', state: main },
        { name: 'shipper', ready: true, restartCount: 0, image: 'x', state: shipper },
      ],
    },
  });
  it.each<[string, Pod, RegExp | undefined]>([
    [
      'one ended, one runs',
      twoContainers(exited(0), { running: {} }),
      /^container shipper of pod\/p still ran after main had ended: if it is a sidecar, name it with --sidecar shipper/,
    ],
    ['both run', twoContainers({ running: {} }, { running: {} }), undefined],
    ['both ended', twoContainers(exited(0), exited(0)), undefined],
    [
      'the artifacts collector runs too: not named',
      withCollector(twoContainers(exited(0), { running: {} })),
      /--sidecar shipper or/,
    ],
    [
      'only the collector runs: no hint',
      withCollector(twoContainers(exited(0), exited(0))),
      undefined,
    ],
  ])('%s', (_what, p, want) => {
    const hint = sidecarHint(p);
    if (want) expect(hint).toMatch(want);
    else expect(hint).toBeUndefined();
  });
});
