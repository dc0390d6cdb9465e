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
 * (`backoffLimit`), its own result; works on every Kubernetes version. Throws InputError naming
 * each bad annotation and each shard name longer than 63 characters.
 * Source: the variables follow Indexed Jobs, https://kubernetes.io/docs/concepts/workloads/controllers/job/#completion-mode
 */
export function shardJobs(jobs: readonly TestJob[], flag: number | undefined): TestJob[] {
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
    for (let i = 0; i < n; i++) out.push(shardOf(j, i, n));
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return out;
}

type Container = { env?: { name: string; value?: string }[] };

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
