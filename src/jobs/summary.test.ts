import { describe, expect, it } from 'vitest';
import type { ContainerStatus, Job, Pod } from '../kube/types.js';
import type { JobSummary } from '../core/outcome.js';
import {
  attemptsOf,
  explainPod,
  formatSummary,
  indexSet,
  shardLines,
  stuckHint,
  summarizePod,
  withTests,
  summarizeJob,
  waitingStatus,
  withLogCounts,
  type SeenFacts,
} from './summary.js';

const terminated = (
  name: string,
  exitCode: number,
  reason?: string,
  extra = {},
): ContainerStatus => ({
  name,
  restartCount: 0,
  state: { terminated: { exitCode, ...(reason ? { reason } : {}), ...extra } },
});

const pod = (
  name: string,
  status: Pod['status'],
  spec: Partial<NonNullable<Pod['spec']>> = {},
  created = '2026-01-01T00:00:00Z',
): Pod => ({
  metadata: { name, uid: name, creationTimestamp: created },
  spec: { containers: [{ name: 'main', image: 'x' }], ...spec },
  status,
});

const failedJob = (reason: string, spec: Job['spec'] = {}): Job => ({
  metadata: { name: 'j' },
  spec,
  status: {
    startTime: '2026-01-01T00:00:00Z',
    conditions: [
      { type: 'Failed', status: 'True', reason, lastTransitionTime: '2026-01-01T00:00:12Z' },
    ],
  },
});

describe('explainPod', () => {
  it.each<[string, Pod, boolean, string | undefined]>([
    [
      'succeeded',
      pod('p', { phase: 'Succeeded', containerStatuses: [terminated('main', 0)] }),
      false,
      undefined,
    ],
    [
      'exit code',
      pod('p', { phase: 'Failed', containerStatuses: [terminated('main', 2, 'Error')] }),
      false,
      'container main of pod/p exited with code 2',
    ],
    [
      'OOMKilled with its limit',
      pod(
        'p',
        { phase: 'Failed', containerStatuses: [terminated('main', 137, 'OOMKilled')] },
        { containers: [{ name: 'main', image: 'x', resources: { limits: { memory: '64Mi' } } }] },
      ),
      false,
      'container main of pod/p was OOMKilled: it used more memory than its limit of 64Mi (exit code 137)',
    ],
    [
      'StartError with its message',
      pod('p', {
        phase: 'Failed',
        containerStatuses: [
          terminated('main', 128, 'StartError', { message: 'exec: "nope": not found' }),
        ],
      }),
      false,
      'container main of pod/p exited with code 128 (StartError: exec: "nope": not found)',
    ],
    [
      'failed init container first',
      pod(
        'p',
        {
          phase: 'Failed',
          initContainerStatuses: [terminated('setup', 1, 'Error')],
          containerStatuses: [{ name: 'main', state: { waiting: { reason: 'PodInitializing' } } }],
        },
        { initContainers: [{ name: 'setup', image: 'x' }] },
      ),
      false,
      'container setup of pod/p exited with code 1',
    ],
    [
      'evicted with the node message',
      pod('p', {
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory. ',
      }),
      false,
      'pod/p was evicted: The node was low on resource: memory.',
    ],
    [
      'pod deadline',
      pod('p', { phase: 'Failed', reason: 'DeadlineExceeded' }, { activeDeadlineSeconds: 30 }),
      false,
      'pod/p ran longer than its activeDeadlineSeconds (30 s)',
    ],
    [
      'deleted by someone else',
      pod('p', { phase: 'Running' }),
      true,
      'pod/p was deleted by someone else before it ended',
    ],
    ['still running', pod('p', { phase: 'Running' }), false, undefined],
  ])('%s', (_, p, deleted, want) => {
    expect(explainPod(p, deleted)).toBe(want);
  });
});

describe('summarizeJob explanations', () => {
  const now = { nowMs: Date.parse('2026-01-01T00:01:00Z') };
  const failedPod = (name: string, code: number, created: string) =>
    pod(
      name,
      { phase: 'Failed', containerStatuses: [terminated('main', code, 'Error')] },
      {},
      created,
    );
  it.each<[string, Job | undefined, Pod[], SeenFacts, string, string]>([
    ['not created', undefined, [], {}, 'NotCreated', 'not created'],
    [
      'backoff limit: attempts and the last exit code',
      failedJob('BackoffLimitExceeded', { backoffLimit: 1 }),
      [failedPod('b', 7, '2026-01-01T00:00:10Z'), failedPod('a', 5, '2026-01-01T00:00:00Z')],
      {},
      'Failed',
      'failed 2 attempts (backoffLimit 1); last: container main of pod/b exited with code 7',
    ],
    [
      'deadline',
      failedJob('DeadlineExceeded', { activeDeadlineSeconds: 5 }),
      [pod('a', { phase: 'Running' })],
      { deletedPods: new Set(['a']) },
      'Failed',
      'ran longer than its activeDeadlineSeconds (5 s), so its pods were stopped',
    ],
    [
      'a pod deleted by someone else explains only when no pod failed on its own',
      failedJob('BackoffLimitExceeded', { backoffLimit: 0 }),
      [pod('a', { phase: 'Running' })],
      { deletedPods: new Set(['a']) },
      'Failed',
      'failed 1 attempt (backoffLimit 0); last: pod/a was deleted by someone else before it ended',
    ],
    [
      'stuck',
      { metadata: { name: 'j' }, status: {} },
      [pod('a', { phase: 'Pending' })],
      {
        stuck: { pod: 'a', reason: 'ErrImagePull', message: 'container main: ErrImagePull: boom' },
      },
      'Stuck',
      'pod/a cannot start: container main: ErrImagePull: boom',
    ],
    [
      'complete after a retry',
      { metadata: { name: 'j' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } },
      [
        failedPod('a', 1, '2026-01-01T00:00:00Z'),
        pod('b', { phase: 'Succeeded' }, {}, '2026-01-01T00:00:09Z'),
      ],
      {},
      'Complete',
      'succeeded after 2 attempts',
    ],
    [
      'completions 8: pods, not attempts',
      {
        metadata: { name: 'j' },
        spec: { completions: 8, parallelism: 4, template: { spec: { containers: [] } } },
        status: { conditions: [{ type: 'Complete', status: 'True' }] },
      },
      Array.from({ length: 8 }, (_, i) => pod(`p${i}`, { phase: 'Succeeded' })),
      {},
      'Complete',
      '8 of 8 pods succeeded',
    ],
    [
      'completions 3 with a retry',
      {
        metadata: { name: 'j' },
        spec: { completions: 3, template: { spec: { containers: [] } } },
        status: { conditions: [{ type: 'Complete', status: 'True' }] },
      },
      [
        failedPod('a', 1, '2026-01-01T00:00:00Z'),
        ...['b', 'c', 'd'].map((n) => pod(n, { phase: 'Succeeded' }, {}, '2026-01-01T00:00:05Z')),
      ],
      {},
      'Complete',
      '3 of 3 pods succeeded (1 failed attempt retried)',
    ],
    [
      "parallel pods: the controller's surplus pod is not a failed attempt",
      failedJob('BackoffLimitExceeded', { backoffLimit: 0, parallelism: 2 }),
      [
        failedPod('a', 4, '2026-01-01T00:00:00Z'),
        {
          ...pod(
            'b',
            { phase: 'Failed', containerStatuses: [terminated('main', 137, 'Error')] },
            {},
            '2026-01-01T00:00:01Z',
          ),
          metadata: {
            name: 'b',
            uid: 'b',
            creationTimestamp: '2026-01-01T00:00:01Z',
            deletionTimestamp: '2026-01-01T00:00:03Z',
          },
        },
      ],
      {},
      'Failed',
      'failed 1 attempt (backoffLimit 0); last: container main of pod/a exited with code 4',
    ],
  ])('%s', (_, job, pods, facts, result, explanation) => {
    const s = summarizeJob('j', 'ns', job, pods, now, facts);
    expect(s.result).toBe(result);
    expect(s.explanation).toBe(explanation);
  });

  it('takes exit codes from the last attempt and the duration from the Job', () => {
    const s = summarizeJob(
      'j',
      'ns',
      failedJob('BackoffLimitExceeded'),
      [failedPod('b', 7, '2026-01-01T00:00:10Z'), failedPod('a', 5, '2026-01-01T00:00:00Z')],
      now,
    );
    expect(s.exitCodes).toEqual([7]);
    expect(s.durationMs).toBe(12_000);
    expect(s.finishedAt).toBe('2026-01-01T00:00:12Z');
    expect(s.pods.map((p) => p.name)).toEqual(['a', 'b']);
  });
});

describe('attemptsOf', () => {
  it.each<[string, Pod[], number]>([
    ['no pods', [], 0],
    ['two pods', [pod('a', {}), pod('b', {})], 2],
    [
      'OnFailure restarts count',
      [pod('a', { containerStatuses: [{ name: 'main', restartCount: 3 }] })],
      4,
    ],
  ])('%s', (_, pods, n) => expect(attemptsOf(pods)).toBe(n));
});

describe('formatSummary and waitingStatus', () => {
  const now = {
    nowMs: Date.parse('2026-01-01T00:01:00Z'),
    startedAtMs: Date.parse('2026-01-01T00:00:00Z'),
  };
  const running = summarizeJob(
    'slow',
    'ns',
    { metadata: { name: 'slow' }, status: { startTime: '2026-01-01T00:00:00Z' } },
    [
      pod('slow-1', {
        phase: 'Pending',
        containerStatuses: [{ name: 'main', state: { waiting: { reason: 'ContainerCreating' } } }],
      }),
    ],
    now,
  );
  const done = summarizeJob(
    'ok',
    'ns',
    {
      metadata: { name: 'ok' },
      status: {
        startTime: '2026-01-01T00:00:00Z',
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:03Z' },
        ],
      },
    },
    [pod('ok-1', { phase: 'Succeeded', containerStatuses: [terminated('main', 0)] })],
    now,
  );

  it('prints a table with a header, and pods only under Jobs that did not complete', () => {
    expect(formatSummary([done, running])).toEqual([
      'JOB       RESULT    DURATION   ATTEMPTS  LINES  REASON',
      'job/ok    Complete  3.0 s      1         -      succeeded',
      'job/slow  Running   1 min 0 s  1         -      still running',
      '    pod/slow-1  Pending  main: waiting: ContainerCreating',
    ]);
  });

  it.each<
    [string, { pod: string; container: string; lines: number; lost: number | null }[], string[]]
  >([
    [
      'every line',
      [{ pod: 'ok-1', container: 'main', lines: 20000, lost: 0 }],
      ['job/ok  Complete  3.0 s     1         20000  succeeded'],
    ],
    [
      'lines lost: the pods are shown',
      [{ pod: 'ok-1', container: 'main', lines: 19800, lost: 200 }],
      [
        'job/ok  Complete  3.0 s     1         19800 (200 lost)  succeeded',
        '    pod/ok-1  Succeeded  main: exit 0, 19800 (200 lost) lines',
      ],
    ],
    [
      'an unknown number lost',
      [{ pod: 'ok-1', container: 'main', lines: 1, lost: null }],
      [
        'job/ok  Complete  3.0 s     1         1 (some lost)  succeeded',
        '    pod/ok-1  Succeeded  main: exit 0, 1 (some lost) line',
      ],
    ],
    [
      'another pod',
      [{ pod: 'other', container: 'main', lines: 5, lost: 9 }],
      ['job/ok  Complete  3.0 s     1         -      succeeded'],
    ],
  ])('gives the log lines mirrored and lost: %s', (_, counts, rows) => {
    expect(formatSummary(withLogCounts([done], counts)).slice(1)).toEqual(rows);
  });

  it('says what the run waits for', () => {
    expect(waitingStatus([done, running], 65_000)).toBe(
      '1 min 5 s: job/ok Complete, job/slow Running (pod/slow-1: main waiting: ContainerCreating)',
    );
  });
});

describe('stuckHint follows the message, not the reason alone', () => {
  it.each<[string, string, RegExp]>([
    [
      'CreateContainerConfigError',
      'container has runAsNonRoot and image will run as root (pod: "t-1_ci(…)", container: main)',
      /^the image runs as root but the pod requires runAsNonRoot/,
    ],
    ['CreateContainerConfigError', 'secret "db-creds" not found', /^create the Secret db-creds /],
    [
      'CreateContainerConfigError',
      'failed to sync secret cache: timed out waiting for the condition',
      /^the kubelet could not read a Secret the pod refers to/,
    ],
    [
      'CreateContainerConfigError',
      'failed to sync configmap cache: timed out waiting for the condition',
      /^the kubelet could not read a ConfigMap the pod refers to/,
    ],
    [
      'CreateContainerConfigError',
      'configmap "settings" not found',
      /^create the ConfigMap settings /,
    ],
    [
      'MissingClaim',
      'cannot be scheduled: 0/1 nodes are available: persistentvolumeclaim "data" not found.',
      /^create the PersistentVolumeClaim data /,
    ],
    [
      'FailedCreate',
      'Error creating: pods "t-" is forbidden: error looking up service account ci/tests: serviceaccount "tests" not found',
      /^create the ServiceAccount tests /,
    ],
    [
      'FailedCreate',
      'Error creating: pods "t-x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1',
      /^a ResourceQuota of the namespace is used up/,
    ],
    [
      'FailedCreate',
      'Error creating: pods "t-x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true',
      /^the namespace's pod security rules refuse the pod/,
    ],
    [
      'FailedCreate',
      'something new',
      /^the Job controller cannot create the pod: see the Job's events below; --pod-create-grace/,
    ],
  ])('%s: %s', (reason, message, hint) => {
    expect(stuckHint(reason, message)).toMatch(hint);
  });
});

describe('native sidecars (Kubernetes 1.29+ shapes)', () => {
  // The pod of the docs' job-sidecar.yaml after the Job ended: the kubelet stopped the sidecar
  // (exit 137 or 143) once myjob had exited.
  // Source: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#jobs-with-sidecar-containers
  const spec = {
    restartPolicy: 'Never',
    initContainers: [
      {
        name: 'logshipper',
        image: 'alpine:latest',
        restartPolicy: 'Always',
        command: ['sh', '-c', 'tail -F /opt/logs.txt'],
      },
    ],
    containers: [{ name: 'myjob', image: 'alpine:latest' }],
  };
  const ended = (phase: string, myjob: number, sidecarRestarts = 0) =>
    pod(
      'myjob-abc',
      {
        phase,
        initContainerStatuses: [
          { ...terminated('logshipper', 137, 'Error'), restartCount: sidecarRestarts },
        ],
        containerStatuses: [terminated('myjob', myjob, myjob ? 'Error' : 'Completed')],
      },
      spec,
    );

  it('marks the sidecar, leaves its exit code out, and counts no restart of it as an attempt', () => {
    const done: Job = {
      metadata: { name: 'myjob' },
      spec: {},
      status: {
        startTime: '2026-01-01T00:00:00Z',
        conditions: [
          { type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:05Z' },
        ],
      },
    };
    const s = summarizeJob('myjob', 'ns', done, [ended('Succeeded', 0, 2)], { nowMs: 0 });
    expect(s).toMatchObject({
      result: 'Complete',
      attempts: 1,
      exitCodes: [0],
      explanation: 'succeeded',
    });
    expect(s.pods[0]!.containers.map((c) => [c.name, c.init, !!c.sidecar])).toEqual([
      ['logshipper', true, true],
      ['myjob', false, false],
    ]);
    expect(attemptsOf([ended('Succeeded', 0, 2)])).toBe(1);
  });

  it('explains a failed pod by its main container, not by the sidecar the kubelet stopped', () => {
    expect(explainPod(ended('Failed', 4))).toBe(
      'container myjob of pod/myjob-abc exited with code 4',
    );
  });

  it('names a regular sidecar only when no main container explains', () => {
    const p = pod('p', {
      phase: 'Failed',
      containerStatuses: [terminated('main', 0, 'Completed'), terminated('shipper', 1, 'Error')],
    });
    expect(explainPod(p, false, new Set(['shipper']))).toBe(
      'container shipper of pod/p exited with code 1',
    );
    const q = pod('q', {
      phase: 'Failed',
      containerStatuses: [terminated('shipper', 137, 'Error'), terminated('main', 2, 'Error')],
    });
    expect(explainPod(q, false, new Set(['shipper']))).toBe(
      'container main of pod/q exited with code 2',
    );
  });
});

describe('termination messages', () => {
  const withMessage = (message: string, reason = 'Error', policy?: string): Pod =>
    pod(
      'p',
      { phase: 'Failed', containerStatuses: [terminated('main', 1, reason, { message })] },
      {
        containers: [
          { name: 'main', image: 'x', ...(policy ? { terminationMessagePolicy: policy } : {}) },
        ],
      },
    );
  it.each<[string, Pod, string | undefined]>([
    [
      'written by the container',
      withMessage('3 tests failed\nsee report.xml\n'),
      '3 tests failed\nsee report.xml',
    ],
    [
      'FallbackToLogsOnError: the log, not a message',
      withMessage('last log line', 'Error', 'FallbackToLogsOnError'),
      undefined,
    ],
    [
      'a runtime error (StartError)',
      withMessage('exec: "nope": executable file not found', 'StartError'),
      undefined,
    ],
    ['empty', withMessage('  '), undefined],
  ])('%s', (_what, p, want) => {
    expect(summarizePod(p).containers[0]!.terminationMessage).toBe(want);
  });

  it('are a summary line each, bounded, line breaks visible', () => {
    const long = `${'x'.repeat(400)}\nmore`;
    const j = summarizeJob('j', 'ns', failedJob('BackoffLimitExceeded'), [withMessage(long)], {
      nowMs: 0,
    });
    const lines = formatSummary([j]).filter((l) => l.includes('termination message'));
    expect(lines).toEqual([`    pod/p main: termination message: ${'x'.repeat(300)}…`]);
    const short = summarizeJob(
      'j',
      'ns',
      failedJob('BackoffLimitExceeded'),
      [withMessage('a\nb')],
      { nowMs: 0 },
    );
    expect(formatSummary([short]).filter((l) => l.includes('termination message'))).toEqual([
      '    pod/p main: termination message: a ⏎ b',
    ]);
  });
});

describe('withTests', () => {
  const report = (failures: number) => ({
    tests: 3,
    failures,
    errors: 0,
    skipped: 0,
    timeSeconds: 1.5,
    failed: Array.from({ length: failures }, (_, i) => ({
      suite: 'api',
      name: `test_${i}`,
      kind: 'failure' as const,
      message: `assert ${i} == 1\nmore`,
    })),
    files: ['t/t-x/junit.xml'],
  });
  const complete = summarizeJob(
    't',
    'ns',
    {
      metadata: { name: 't' },
      status: { conditions: [{ type: 'Complete', status: 'True' }] },
    },
    [],
    { nowMs: 0 },
  );
  const passed = { kind: 'succeeded' as const, reason: 'Complete' as const, jobs: [complete] };

  it('adds the report; the run still passes without --fail-on-test-failures', () => {
    const o = withTests(passed, new Map([['t', report(1)]]), false);
    expect(o.kind).toBe('succeeded');
    expect(o.jobs[0]!.tests?.failures).toBe(1);
    expect(formatSummary(o.jobs).slice(2)).toEqual([
      '    tests: 3 (1 failed, 0 errors, 0 skipped; 1.5 s) in 1 JUnit report',
      '      ✗ api › test_0: assert 0 == 1',
    ]);
  });

  it('with --fail-on-test-failures a Complete Job with failed cases fails the run', () => {
    const o = withTests(passed, new Map([['t', report(2)]]), true);
    expect(o).toMatchObject({ kind: 'failed', reason: 'JobFailed', message: 'job/t failed' });
    expect(o.jobs[0]).toMatchObject({
      result: 'Failed',
      reason: 'TestFailures',
      explanation: 'Complete, but its JUnit reports 2 failed test cases (--fail-on-test-failures)',
    });
    expect(withTests(passed, new Map([['t', report(0)]]), true).kind).toBe('succeeded');
  });

  it('lists at most 10 failed cases in the summary', () => {
    const o = withTests(passed, new Map([['t', report(12)]]), false);
    const lines = formatSummary(o.jobs);
    expect(lines.filter((l) => l.includes('✗'))).toHaveLength(10);
    expect(lines.at(-1)).toBe('      … and 2 more (the result file lists them)');
  });
});

describe('shardLines', () => {
  const shard = (i: number, result: 'Complete' | 'Failed', durationMs?: number) =>
    ({ name: `suite-shard-${i}`, result, durationMs }) as JobSummary;
  it.each<[string, JobSummary[], string[]]>([
    [
      'all complete: the slowest and the fastest',
      [shard(0, 'Complete', 4_100), shard(1, 'Complete', 6_000), shard(2, 'Complete', 3_900)],
      ['job/suite in 3 shards: 3 Complete; slowest suite-shard-1 6.0 s, fastest 3.9 s'],
    ],
    [
      'a failed shard is named',
      [shard(0, 'Complete', 4_000), shard(1, 'Failed', 2_000)],
      [
        'job/suite in 2 shards: 1 Complete, 1 not (suite-shard-1); slowest suite-shard-0 4.0 s, fastest 2.0 s',
      ],
    ],
    ['no shards, no line', [{ name: 'lint', result: 'Complete' } as JobSummary], []],
  ])('%s', (_name, jobs, lines) => {
    expect(shardLines(jobs)).toEqual(lines);
  });
});

describe('a Job run as one Indexed Job of shards', () => {
  // status as the backoff-limit-per-index example of the Job docs leaves it: index 1 failed.
  const indexedJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'suite',
      namespace: 'ci',
      uid: 'j1',
      annotations: { 'kubestep.dev/shards': '4' },
    },
    spec: {
      completionMode: 'Indexed',
      completions: 4,
      parallelism: 4,
      backoffLimitPerIndex: 1,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'tests', image: 'x' }] } },
    },
    status: {
      startTime: '2026-12-07T10:00:00Z',
      completedIndexes: '0,2-3',
      failedIndexes: '1',
      succeeded: 3,
      failed: 2,
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'FailedIndexes',
          lastTransitionTime: '2026-12-07T10:00:20Z',
        },
      ],
    },
  } as unknown as Job;
  const indexPod = (index: number, attempt: number, exitCode: number, seconds: number): Pod => ({
    metadata: {
      name: `suite-${index}-${attempt}`,
      namespace: 'ci',
      uid: `p${index}${attempt}`,
      creationTimestamp: `2026-12-07T10:00:0${attempt}Z`,
      annotations: { 'batch.kubernetes.io/job-completion-index': String(index) },
      ownerReferences: [{ kind: 'Job', name: 'suite', uid: 'j1', controller: true }],
    },
    status: {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      startTime: '2026-12-07T10:00:00Z',
      containerStatuses: [
        {
          name: 'tests',
          ready: false,
          restartCount: 0,
          image: 'x',
          state: {
            terminated: {
              exitCode,
              finishedAt: new Date(
                Date.parse('2026-12-07T10:00:00Z') + seconds * 1000,
              ).toISOString(),
            },
          },
        },
      ],
    },
  });
  const pods = [
    indexPod(0, 0, 0, 5),
    indexPod(1, 0, 1, 2),
    indexPod(1, 1, 1, 4),
    indexPod(2, 0, 0, 9),
    indexPod(3, 0, 0, 3),
  ];

  it('per-shard results from completedIndexes and failedIndexes, attempts and times from the pods', () => {
    const s = summarizeJob('suite', 'ci', indexedJob, pods, {
      nowMs: Date.parse('2026-12-07T10:01:00Z'),
    });
    expect(s.result).toBe('Failed');
    expect(s.shards).toEqual([
      { index: 0, result: 'Complete', attempts: 1, durationMs: 5_000 },
      { index: 1, result: 'Failed', attempts: 2, durationMs: 4_000 },
      { index: 2, result: 'Complete', attempts: 1, durationMs: 9_000 },
      { index: 3, result: 'Complete', attempts: 1, durationMs: 3_000 },
    ]);
    expect(shardLines([s])).toEqual([
      'job/suite in 4 shards (one Indexed Job): 3 Complete, 1 not (index 1 Failed); slowest index 2 9.0 s, fastest index 3 3.0 s',
    ]);
  });

  it('no shards for an Indexed Job kubestep did not shard, nor for a plain Job', () => {
    const plain = { ...indexedJob, metadata: { ...indexedJob.metadata, annotations: {} } };
    expect(summarizeJob('suite', 'ci', plain, pods, { nowMs: 0 }).shards).toBeUndefined();
  });

  it.each([
    ['0,2-3', [0, 2, 3]],
    ['', []],
    ['1-1', [1]],
    [undefined, []],
    ['x,4', [4]],
  ])('indexSet(%j)', (v, want) => {
    expect([...indexSet(v)]).toEqual(want);
  });
});
