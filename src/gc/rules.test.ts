import { describe, expect, it } from 'vitest';
import type { Job, KubeObject } from '../kube/types.js';
import { ANNOTATION_ALIVE_UNTIL } from '../manifests/jobs.js';
import { countByReason, gcVerdict, planCollection, runStateOf, type RunState } from './rules.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const RULES = { olderThanMs: 6 * H, maxAgeMs: 24 * H };

const labels = (runId: string | undefined, role?: string) => ({
  'app.kubernetes.io/managed-by': 'kubestep',
  ...(runId ? { 'kubestep.dev/run-id': runId } : {}),
  ...(role ? { 'kubestep.dev/role': role } : {}),
  ...(role && role !== 'anchor' ? { 'kubestep.dev/template': '0123456789abcdef' } : {}),
});

function job(
  runId: string | undefined,
  ageMs: number,
  finishedAgoMs?: number,
  extra: Partial<Job['metadata']> = {},
): Job {
  return {
    kind: 'Job',
    metadata: {
      name: `tests-${runId}`,
      creationTimestamp: iso(NOW - ageMs),
      labels: labels(runId, 'test'),
      ...extra,
    },
    status:
      finishedAgoMs === undefined
        ? {}
        : {
            conditions: [
              { type: 'Failed', status: 'True', lastTransitionTime: iso(NOW - finishedAgoMs) },
            ],
          },
  };
}

function dep(runId: string, ageMs: number, kind = 'Pod'): KubeObject {
  return {
    kind,
    metadata: {
      name: `db-${runId}`,
      creationTimestamp: iso(NOW - ageMs),
      labels: labels(runId, 'dependency'),
    },
  };
}

/** `o` with labels changed (undefined: removed). */
function withLabels(o: KubeObject, change: Record<string, string | undefined>): KubeObject {
  const labels: Record<string, string> = { ...o.metadata?.labels };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete labels[k];
    else labels[k] = v;
  }
  return { ...o, metadata: { ...o.metadata, labels } };
}

function anchor(runId: string, ageMs: number, aliveUntilMs?: number, ttl?: number): Job {
  return {
    kind: 'Job',
    metadata: {
      name: `kubestep-run-${runId}`,
      creationTimestamp: iso(NOW - ageMs),
      labels: labels(runId, 'anchor'),
      annotations:
        aliveUntilMs === undefined ? {} : { [ANNOTATION_ALIVE_UNTIL]: iso(aliveUntilMs) },
    },
    spec: ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl },
  };
}

describe('runStateOf', () => {
  const cases: [string, Job | undefined, RunState['kind']][] = [
    ['no anchor: ended', undefined, 'ended'],
    ['heartbeat in the future: live', anchor('a', 60_000, NOW + 30_000), 'live'],
    ['heartbeat expired: killed', anchor('a', 60_000, NOW - 1), 'killed'],
    [
      'anchor being deleted: ended',
      { ...anchor('a', 60_000, NOW + 30_000), metadata: { deletionTimestamp: iso(NOW) } },
      'ended',
    ],
    ['no heartbeat, TTL not yet passed: live', anchor('a', 60_000, undefined, 3600), 'live'],
    ['no heartbeat, TTL passed: killed', anchor('a', 2 * H, undefined, 3600), 'killed'],
    ['no heartbeat, no TTL, younger than max age: live', anchor('a', H), 'live'],
    ['no heartbeat, no TTL, older than max age: killed', anchor('a', 25 * H), 'killed'],
  ];
  it.each(cases)('%s', (_name, a, kind) => {
    expect(runStateOf(a, NOW, RULES.maxAgeMs).kind).toBe(kind);
  });
  it('gives the time the heartbeat expired', () => {
    expect(runStateOf(anchor('a', H, NOW - 5000), NOW, RULES.maxAgeMs)).toEqual({
      kind: 'killed',
      sinceMs: NOW - 5000,
    });
  });
});

describe('gcVerdict', () => {
  const live: RunState = { kind: 'live', untilMs: NOW + 1000 };
  const killed: RunState = { kind: 'killed', sinceMs: NOW - 1000 };
  const ended: RunState = { kind: 'ended' };
  const cases: [string, KubeObject, RunState, boolean, string][] = [
    ['running Job of a live run', job('a', H), live, false, 'run live'],
    [
      'running Job of a live run, past --max-age',
      job('a', 25 * H),
      live,
      true,
      'Job older than --max-age',
    ],
    ['running Job of a killed run', job('a', 7 * H), killed, true, 'run killed'],
    ['running Job of a killed run, young', job('a', H), killed, false, 'younger than --older-than'],
    ['running Job of an ended run', job('a', 7 * H), ended, false, 'Job still running'],
    [
      'running Job of an ended run, past --max-age',
      job('a', 25 * H),
      ended,
      true,
      'Job older than --max-age',
    ],
    ['finished Job of a live run', job('a', 8 * H, 7 * H), live, false, 'run live'],
    ['finished Job of an ended run, long ago', job('a', 8 * H, 7 * H), ended, true, 'Job finished'],
    [
      'finished Job of an ended run, recently',
      job('a', 8 * H, H),
      ended,
      false,
      'younger than --older-than',
    ],
    ['finished Job of a killed run', job('a', 8 * H, 7 * H), killed, true, 'Job finished'],
    ['dependency of a killed run', dep('a', 7 * H), killed, true, 'run killed'],
    ['dependency of an ended run', dep('a', 7 * H, 'Service'), ended, true, 'run ended'],
    ['young dependency of an ended run', dep('a', H), ended, false, 'younger than --older-than'],
    ['dependency of a live run', dep('a', 30 * H), live, false, 'run live'],
    ['anchor of a killed run', anchor('a', 7 * H, NOW - 1), killed, true, 'run killed'],
    [
      'object being deleted',
      {
        ...dep('a', 7 * H),
        metadata: { ...dep('a', 7 * H).metadata, deletionTimestamp: iso(NOW) },
      },
      killed,
      false,
      'being deleted',
    ],
    ['object without run id', job(undefined, 30 * H), killed, false, 'not all kubestep labels'],
    ...(
      [
        [
          'only managed-by and run id',
          { 'kubestep.dev/role': undefined, 'kubestep.dev/template': undefined },
        ],
        ['no template', { 'kubestep.dev/template': undefined }],
        ['another role', { 'kubestep.dev/role': 'mine' }],
        ['another manager', { 'app.kubernetes.io/managed-by': 'helm' }],
      ] as const
    ).map(([name, change]): [string, KubeObject, RunState, boolean, string] => [
      `a dependency with ${name}`,
      withLabels(dep('a', 30 * H), change),
      killed,
      false,
      'not all kubestep labels',
    ]),
  ];
  it.each(cases)('%s', (_name, object, state, del, reason) => {
    expect(gcVerdict(object, state, NOW, RULES)).toEqual({ delete: del, reason });
  });
  it('with --older-than 0 deletes everything of a killed run at once', () => {
    const rules = { olderThanMs: 0, maxAgeMs: 24 * H };
    for (const o of [job('a', 1000), job('a', 1000, 10), dep('a', 1000), anchor('a', 1000, NOW)]) {
      expect(gcVerdict(o, killed, NOW, rules).delete).toBe(true);
    }
  });
  it('counts a finished Job from its completionTime when it has one', () => {
    const j = job('a', 8 * H, 7 * H);
    j.status!.completionTime = iso(NOW - H);
    expect(gcVerdict(j, ended, NOW, RULES).delete).toBe(false);
  });
});

describe('planCollection', () => {
  it('judges each run by its own anchor and orders deletions: Jobs, others, anchors', () => {
    const found = [
      anchor('dead', 7 * H, NOW - 60_000),
      dep('dead', 7 * H),
      job('dead', 7 * H),
      anchor('alive', 7 * H, NOW + 60_000),
      job('alive', 7 * H),
      dep('alive', 7 * H),
      dep('gone', 7 * H, 'ConfigMap'),
    ].map((object) => ({ res: object.kind!, object }));
    const plan = planCollection('ci', found, NOW, RULES);
    const del = plan.filter((d) => d.verdict.delete).map((d) => `${d.res}/${d.runId}`);
    expect(del).toEqual(['Job/dead', 'Pod/dead', 'ConfigMap/gone', 'Job/dead']);
    expect(plan.at(-4)!.res).toBe('Job'); // first kept: ordering put deletions first
    expect(plan.filter((d) => !d.verdict.delete).every((d) => d.runId === 'alive')).toBe(true);
    expect(countByReason(plan)).toEqual({
      delete: { 'run killed': 3, 'run ended': 1 },
      keep: { 'run live': 3 },
    });
    expect(plan.every((d) => d.namespace === 'ci')).toBe(true);
  });
  it('keeps the anchor of a killed run while one of its objects is kept', () => {
    const found = [anchor('k', 7 * H, NOW - 1), dep('k', 7 * H), job('k', H)].map((object) => ({
      res: object.kind!,
      object,
    }));
    const plan = planCollection('ci', found, NOW, RULES);
    expect(plan.map((d) => [d.object.metadata?.name, d.verdict.reason])).toEqual([
      ['db-k', 'run killed'],
      ['kubestep-run-k', 'run has kept objects'],
      ['tests-k', 'younger than --older-than'],
    ]);
  });
});
