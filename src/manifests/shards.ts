// Sharding (--shards N, annotation kubestep.dev/shards): a test Job run as N Jobs in parallel,
// each told its place, so that a suite that outgrows one pod splits across the cluster. Pure.
import { InputError } from '../core/errors.js';
import type { Job } from '../kube/types.js';
import { describeOrigin } from './parse.js';
import type { TestJob } from './jobs.js';

/** The annotation on a Job (or its pod template) that shards it: `"4"`. */
export const SHARDS_ANNOTATION = 'kubestep.dev/shards';
/** The label of a shard's Job and pods: its index, `0`…`N-1`. */
export const SHARD_LABEL = 'kubestep.dev/shard';
/** The most shards of one Job. */
export const MAX_SHARDS = 200;

/** The variables every container of a shard gets. */
export const SHARD_ENV = {
  index: 'KUBESTEP_SHARD_INDEX',
  count: 'KUBESTEP_SHARD_COUNT',
  /** What an Indexed Job gives its pods; set too, so that a suite written for one runs as is. */
  completionIndex: 'JOB_COMPLETION_INDEX',
} as const;

/** The pod annotation an Indexed Job's controller gives each pod: its completion index. */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/**
 * How sharded Jobs run: `jobs`, N Jobs (every Kubernetes version); `indexed`, one Indexed Job with
 * `backoffLimitPerIndex` (clusters that keep both fields in a dry run: 1.29+, see
 * {@link indexedProbe}).
 */
export type ShardMode = 'jobs' | 'indexed';

/** The longest name a Job may have: its name is the value of its pods' `job-name` label. */
const MAX_JOB_NAME = 63;

/**
 * How many shards `job` runs as: its annotation (on the Job or its pod template), else `flag`
 * (--shards), else 1. A problem (not an integer from 1 to {@link MAX_SHARDS}) is a string.
 */
export function shardCount(job: Job, flag: number | undefined): number | string {
  const raw =
    job.metadata?.annotations?.[SHARDS_ANNOTATION] ??
    job.spec?.template?.metadata?.annotations?.[SHARDS_ANNOTATION];
  if (raw === undefined) return flag ?? 1;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS)
    return `annotation ${SHARDS_ANNOTATION} is ${JSON.stringify(raw)}: give a whole number from 1 to ${MAX_SHARDS}`;
  return n;
}

/** `suite-shard-2`: the name of shard `i` of Job `name`. */
export const shardName = (name: string, i: number) => `${name}-shard-${i}`;

/**
 * The test Jobs with every sharded one replaced by its shards (in order): Job `NAME-shard-I` for
 * I in 0…N-1, labelled {@link SHARD_LABEL} (Job and pod template), every container and init
 * container given `KUBESTEP_SHARD_INDEX`, `KUBESTEP_SHARD_COUNT` and `JOB_COMPLETION_INDEX`
 * (replacing variables of those names). Each shard is a Job of its own: its own retries
 * (`backoffLimit`), its own result; works on every Kubernetes version. With `mode` `indexed`,
 * a Job that fits ({@link indexedMisfit}) becomes one Indexed Job instead ({@link indexedShards}).
 * Throws InputError naming
 * each bad annotation and each shard name longer than 63 characters.
 * Source: the variables follow Indexed Jobs, https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 */
export function shardJobs(
  jobs: readonly TestJob[],
  flag: number | undefined,
  mode: ShardMode = 'jobs',
): TestJob[] {
  const problems: string[] = [];
  const out: TestJob[] = [];
  for (const j of jobs) {
    const n = shardCount(j.job, flag);
    if (typeof n === 'string') {
      problems.push(`${describeOrigin(j.origin)}: ${n}`);
      continue;
    }
    if (n === 1) {
      out.push(j);
      continue;
    }
    const longest = shardName(j.name, n - 1);
    if (longest.length > MAX_JOB_NAME) {
      problems.push(
        `${describeOrigin(j.origin)}: job/${j.name} in ${n} shards would be named up to ${longest} (${longest.length} characters; at most ${MAX_JOB_NAME}): shorten its name`,
      );
      continue;
    }
    const indexed = mode === 'indexed' && indexedMisfit(j.job) === undefined;
    if (indexed) out.push(indexedShards(j, n));
    else for (let i = 0; i < n; i++) out.push(shardOf(j, i, n));
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return out;
}

type Container = { env?: { name: string; value?: string; valueFrom?: unknown }[] };

function shardOf(j: TestJob, i: number, n: number): TestJob {
  const name = shardName(j.name, i);
  const job = structuredClone(j.job);
  const label = { [SHARD_LABEL]: String(i) };
  job.metadata = { ...job.metadata, name, labels: { ...job.metadata?.labels, ...label } };
  const template = job.spec!.template!;
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, ...label },
  };
  const vars = [
    { name: SHARD_ENV.index, value: String(i) },
    { name: SHARD_ENV.count, value: String(n) },
    { name: SHARD_ENV.completionIndex, value: String(i) },
  ];
  const spec = template.spec as { containers?: Container[]; initContainers?: Container[] };
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const own = (c.env ?? []).filter((e) => !vars.some((v) => v.name === e.name));
    c.env = [...own, ...vars];
  }
  return { ...j, name, job };
}

/**
 * Why `job` cannot run its shards as one Indexed Job with per-shard retries, or undefined when it
 * can: `backoffLimitPerIndex` needs `restartPolicy: Never`, and a Job that already sets
 * `completions` (above 1), `completionMode` or `backoffLimitPerIndex` keeps its own meaning (it
 * runs as N Jobs). Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#backoff-limit-per-index
 */
export function indexedMisfit(job: Job): string | undefined {
  const spec = job.spec as Record<string, unknown> | undefined;
  const restart = job.spec?.template?.spec?.restartPolicy;
  if (restart !== 'Never') return `restartPolicy is ${restart ?? 'unset'}, not Never`;
  if (typeof spec?.completions === 'number' && spec.completions > 1)
    return `it sets completions: ${spec.completions}`;
  for (const field of ['completionMode', 'backoffLimitPerIndex', 'maxFailedIndexes'])
    if (spec?.[field] !== undefined) return `it sets ${field}`;
  return undefined;
}

/**
 * Job `j` as one Indexed Job of `n` shards: `completionMode: Indexed`, `completions` and
 * `parallelism` `n`, `backoffLimitPerIndex` the Job's `backoffLimit` (default 6: each shard retries
 * as often as the Job would; `backoffLimit` itself is left to its default, unlimited, so that one
 * shard's failures do not stop the others), annotation {@link SHARDS_ANNOTATION}. Every container
 * gets `KUBESTEP_SHARD_INDEX` from the pod's completion index annotation and
 * `KUBESTEP_SHARD_COUNT`; the Job controller sets `JOB_COMPLETION_INDEX` itself (and names the
 * pods `NAME-INDEX-xxxxx`, so that log prefixes carry the shard).
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 */
export function indexedShards(j: TestJob, n: number): TestJob {
  const job = structuredClone(j.job);
  job.metadata = {
    ...job.metadata,
    annotations: { ...job.metadata?.annotations, [SHARDS_ANNOTATION]: String(n) },
  };
  const spec = job.spec! as NonNullable<Job['spec']> & Record<string, unknown>;
  const perIndex = spec.backoffLimit ?? 6;
  delete spec.backoffLimit;
  Object.assign(spec, {
    completionMode: 'Indexed',
    completions: n,
    parallelism: n,
    backoffLimitPerIndex: perIndex,
  });
  const vars = [
    {
      name: SHARD_ENV.index,
      valueFrom: {
        fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` },
      },
    },
    { name: SHARD_ENV.count, value: String(n) },
  ];
  const names: string[] = Object.values(SHARD_ENV);
  const podSpec = spec.template!.spec as { containers?: Container[]; initContainers?: Container[] };
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    const own = (c.env ?? []).filter((e) => !names.includes(e.name));
    c.env = [...own, ...vars];
  }
  return { ...j, job };
}

/**
 * A Job to dry-run in `namespace` to learn whether the cluster runs sharded Jobs as one Indexed
 * Job: it does when the answer keeps `completionMode: Indexed` and `backoffLimitPerIndex` (a
 * cluster that does not know a field drops it; see {@link indexedSupported}).
 */
export function indexedProbe(namespace: string): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: 'kubestep-indexed-probe-', namespace },
    spec: {
      completionMode: 'Indexed',
      completions: 2,
      parallelism: 2,
      backoffLimitPerIndex: 1,
      template: {
        spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image: 'probe' }] },
      },
    } as NonNullable<Job['spec']>,
  };
}

/** True when the dry run's answer to {@link indexedProbe} kept both fields. */
export function indexedSupported(answer: Job): boolean {
  const spec = answer.spec as Record<string, unknown> | undefined;
  return spec?.completionMode === 'Indexed' && spec.backoffLimitPerIndex === 1;
}
