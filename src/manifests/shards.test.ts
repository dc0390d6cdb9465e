import { describe, expect, it } from 'vitest';
import type { Job } from '../kube/types.js';
import type { TestJob } from './jobs.js';
import {
  indexedMisfit,
  indexedProbe,
  indexedSupported,
  SHARDS_ANNOTATION,
  shardCount,
  shardJobs,
} from './shards.js';

const testJob = (name: string, annotations?: Record<string, string>): TestJob => ({
  origin: { source: 'tests.yaml', index: 1, line: 1 },
  name,
  namespace: 'ci',
  job: {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ci', labels: { 'kubestep.dev/run-id': 'r1' }, annotations },
    spec: {
      backoffLimit: 1,
      template: {
        metadata: { labels: { 'kubestep.dev/run-id': 'r1' } },
        spec: {
          restartPolicy: 'Never',
          initContainers: [{ name: 'fixtures', image: 'busybox' }],
          containers: [
            {
              name: 'tests',
              image: 'busybox',
              env: [
                { name: 'KEEP', value: 'me' },
                { name: 'KUBESTEP_SHARD_INDEX', value: 'stale' },
              ],
            },
          ],
        },
      },
    },
  } as unknown as Job,
});

type Env = { name: string; value?: string; valueFrom?: unknown }[];
const envOf = (j: TestJob, c: 'containers' | 'initContainers') =>
  (j.job.spec!.template!.spec as unknown as Record<string, { env?: Env }[]>)[c]![0]!.env;

describe('shardCount', () => {
  it.each<[string, Record<string, string> | undefined, number | undefined, number | RegExp]>([
    ['no flag, no annotation', undefined, undefined, 1],
    ['the flag', undefined, 4, 4],
    ['the annotation over the flag', { 'kubestep.dev/shards': '3' }, 4, 3],
    ['zero', { 'kubestep.dev/shards': '0' }, undefined, /give a whole number from 1 to 200/],
    ['too many', { 'kubestep.dev/shards': '201' }, undefined, /"201"/],
    ['not a number', { 'kubestep.dev/shards': 'four' }, undefined, /"four"/],
  ])('%s', (_name, annotations, flag, want) => {
    const n = shardCount(testJob('suite', annotations).job, flag);
    if (typeof want === 'number') expect(n).toBe(want);
    else expect(n).toMatch(want);
  });
});

describe('shardJobs', () => {
  it('makes N Jobs, each labelled and told its place in every container; its own backoffLimit', () => {
    const shards = shardJobs(
      [testJob('suite'), testJob('lint', { 'kubestep.dev/shards': '1' })],
      3,
    );
    // lint's annotation (1) wins over the flag (3): it stays one Job.
    expect(shards.map((s) => s.name)).toEqual([
      'suite-shard-0',
      'suite-shard-1',
      'suite-shard-2',
      'lint',
    ]);
    const s1 = shards[1]!;
    expect(s1.job.metadata?.name).toBe('suite-shard-1');
    expect(s1.job.metadata?.labels).toMatchObject({
      'kubestep.dev/shard': '1',
      'kubestep.dev/run-id': 'r1',
    });
    expect(s1.job.spec?.template?.metadata?.labels).toMatchObject({ 'kubestep.dev/shard': '1' });
    expect(s1.job.spec?.backoffLimit).toBe(1);
    expect(envOf(s1, 'containers')).toEqual([
      { name: 'KEEP', value: 'me' },
      { name: 'KUBESTEP_SHARD_INDEX', value: '1' },
      { name: 'KUBESTEP_SHARD_COUNT', value: '3' },
      { name: 'JOB_COMPLETION_INDEX', value: '1' },
    ]);
    expect(envOf(s1, 'initContainers')).toContainEqual({
      name: 'KUBESTEP_SHARD_COUNT',
      value: '3',
    });
  });

  it('leaves its input alone', () => {
    const j = testJob('suite');
    shardJobs([j], 2);
    expect(j.job.metadata?.name).toBe('suite');
    expect(envOf(j, 'containers')).toHaveLength(2);
  });

  it('names every problem at once: a bad annotation, a name too long for its shards', () => {
    const long = 'x'.repeat(56);
    expect(() =>
      shardJobs([testJob('a', { 'kubestep.dev/shards': 'many' }), testJob(long)], 10),
    ).toThrow(
      /annotation kubestep.dev\/shards is "many"[\s\S]*would be named up to x+-shard-9 \(64 characters; at most 63\)/,
    );
  });
});

describe('shards as one Indexed Job (clusters with backoffLimitPerIndex)', () => {
  it('one Job: Indexed, N completions in parallel, per-index retries from backoffLimit, the variables', () => {
    const [j, ...rest] = shardJobs([testJob('suite')], 4, 'indexed');
    expect(rest).toEqual([]);
    expect(j!.name).toBe('suite');
    expect(j!.job.metadata?.annotations?.[SHARDS_ANNOTATION]).toBe('4');
    expect(j!.job.spec).toMatchObject({
      completionMode: 'Indexed',
      completions: 4,
      parallelism: 4,
      backoffLimitPerIndex: 1,
    });
    expect(j!.job.spec?.backoffLimit).toBeUndefined();
    for (const c of ['containers', 'initContainers'] as const)
      expect(
        envOf(j!, c)?.filter(
          (e) => e.name.startsWith('KUBESTEP_') || e.name === 'JOB_COMPLETION_INDEX',
        ),
      ).toEqual([
        {
          name: 'KUBESTEP_SHARD_INDEX',
          valueFrom: {
            fieldRef: {
              fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
            },
          },
        },
        { name: 'KUBESTEP_SHARD_COUNT', value: '4' },
      ]);
    expect(envOf(j!, 'containers')?.[0]).toEqual({ name: 'KEEP', value: 'me' });
  });

  it.each([
    [
      'restartPolicy OnFailure',
      { restartPolicy: 'OnFailure' },
      {},
      'restartPolicy is OnFailure, not Never',
    ],
    ['completions 3', {}, { completions: 3 }, 'it sets completions: 3'],
    ['its own completionMode', {}, { completionMode: 'NonIndexed' }, 'it sets completionMode'],
  ])('a Job that does not fit (%s) runs as N Jobs', (_, pod, spec, why) => {
    const j = testJob('suite');
    Object.assign(j.job.spec!.template!.spec!, pod);
    Object.assign(j.job.spec!, spec);
    expect(indexedMisfit(j.job)).toBe(why);
    expect(shardJobs([j], 2, 'indexed').map((x) => x.name)).toEqual([
      'suite-shard-0',
      'suite-shard-1',
    ]);
  });

  it('the probe: supported when the dry run keeps both fields (1.29+), not when it drops them (1.20)', () => {
    const probe = indexedProbe('ci');
    expect(indexedSupported(probe)).toBe(true);
    const without = (...fields: string[]): Job => {
      const spec = { ...(probe.spec as Record<string, unknown>) };
      for (const f of fields) delete spec[f];
      return { ...probe, spec };
    };
    // What a 1.20 API server answers: the fields it does not know are gone.
    expect(indexedSupported(without('completionMode', 'backoffLimitPerIndex'))).toBe(false);
    // 1.22-1.28: Indexed, but without per-index retries.
    expect(indexedSupported(without('backoffLimitPerIndex'))).toBe(false);
  });
});
