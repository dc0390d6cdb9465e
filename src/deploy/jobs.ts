// Jobs in deploy manifests (migrations): a finished Job of the same name from an earlier deploy is
// replaced, and each Job is followed like a test Job (every log line, stuck pods, the outcome)
// until it is Complete, before the next phase changes anything. Imperative shell over jobs/.
import { sleep } from '../core/abort.js';
import { InfraError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { isJobFinished } from '../jobs/status.js';
import { formatSummary } from '../jobs/summary.js';
import { existingJob } from '../jobs/tracker.js';
import { runJobs } from '../jobs/run-jobs.js';
import { JOBS } from '../kube/resources.js';
import type { Job, KubeObject } from '../kube/types.js';
import type { World } from '../kube/world.js';
import { Ledger } from '../objects/ledger.js';
import type { StuckGraces } from '../pods/problems.js';

/** How long a replaced Job (and, foreground, its pods) may take to be gone, ms. */
const REPLACE_TIMEOUT_MS = 120_000;

/**
 * Makes room for a Job of the manifests: a finished Job of the same name (an earlier deploy's) is
 * deleted, foreground so that its pods are gone too, and waited for; a Job of that name that is
 * still running is an InfraError (exit 3: another deploy may be running it). Nothing when there
 * is none. Source: a Job's pod template is immutable, so a new version cannot be applied over it:
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
 */
export async function replaceStaleJob(
  { client, out }: World,
  ns: string,
  name: string,
  signal: AbortSignal,
): Promise<void> {
  const old = await client.get<Job>(JOBS, ns, name, signal);
  if (!old) return;
  if (!isJobFinished(old))
    throw new InfraError(
      `job/${name} in namespace ${ns} exists and has not finished (an earlier or parallel deploy?): nothing of this phase was applied; wait for it, or delete it`,
    );
  out.info(`deleting the finished job/${name} of an earlier deploy`);
  await client.delete(
    JOBS,
    ns,
    name,
    { propagationPolicy: 'Foreground', uid: old.metadata?.uid },
    signal,
  );
  const until = Date.now() + REPLACE_TIMEOUT_MS;
  for (;;) {
    const now = await client.get<Job>(JOBS, ns, name, signal);
    if (!now || now.metadata?.uid !== old.metadata?.uid) return;
    if (Date.now() > until)
      throw new InfraError(
        `job/${name} in namespace ${ns} was not gone ${REPLACE_TIMEOUT_MS / 1000} s after its deletion (its pods are still terminating?): try again`,
      );
    await sleep(1_000, signal);
  }
}

/**
 * Follows the applied Jobs of one phase until each is Complete or Failed, or a pod cannot start
 * (jobs/run-jobs.ts in `existing` mode: logs mirrored, stuck pods explained, the summary printed).
 * Returns runJobs' outcome; `failed` (JobFailed) means a migration failed (exit 1).
 */
export async function followJobs(
  world: World,
  jobs: readonly KubeObject[],
  graces: StuckGraces,
  signal: AbortSignal,
): Promise<Outcome> {
  const byNamespace = new Map<string, string[]>();
  for (const j of jobs) {
    const ns = j.metadata?.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), j.metadata?.name ?? '']);
  }
  let last: Outcome | undefined;
  const summaries = [];
  for (const [ns, names] of byNamespace) {
    const outcome = await runJobs(
      world,
      {
        runId: 'deploy',
        jobs: names.map((n) => existingJob(ns, n)),
        drainMs: 30_000,
        anchors: new Map(),
        graces,
        existing: { namespace: ns, appearTimeoutMs: 30_000 },
      },
      new Ledger(),
      signal,
    );
    summaries.push(...outcome.jobs);
    last = { ...outcome, jobs: summaries };
    if (outcome.kind !== 'succeeded') break;
  }
  if (summaries.length > 0)
    for (const line of ['summary:', ...formatSummary(summaries).map((l) => `  ${l}`)])
      world.out.info(line);
  return last ?? { kind: 'succeeded', reason: 'Complete', jobs: [] };
}
