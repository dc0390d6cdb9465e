// Reading a Job's state from its conditions. Pure.
import type { Job } from '../kube/types.js';

/** Where a Job stands: still running, or finished with the condition that says so. */
export type JobState =
  | { phase: 'running' }
  | { phase: 'complete'; reason?: string; message?: string; at?: string }
  | { phase: 'failed'; reason?: string; message?: string; at?: string };

/**
 * A Job is finished only when its `Complete` or `Failed` condition has status "True".
 * `SuccessCriteriaMet` and `FailureTarget` (Kubernetes ≥ 1.31) come first and are not terminal:
 * pods may still be terminating. Source:
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions
 */
export function jobState(job: Job): JobState {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete')
      return { phase: 'complete', reason: c.reason, message: c.message, at: c.lastTransitionTime };
    if (c.type === 'Failed')
      return { phase: 'failed', reason: c.reason, message: c.message, at: c.lastTransitionTime };
  }
  return { phase: 'running' };
}

/** True when the Job has a terminal condition. */
export function isJobFinished(job: Job): boolean {
  return jobState(job).phase !== 'running';
}

/**
 * When the Job finished (its `completionTime`, else the time of its terminal condition), in epoch
 * ms, if that was before `beforeMs`; else (running, or finished later) undefined.
 */
export function finishedBefore(job: Job, beforeMs: number): number | undefined {
  const state = jobState(job);
  if (state.phase === 'running') return undefined;
  const at = Date.parse(job.status?.completionTime ?? state.at ?? '');
  return at < beforeMs ? at : undefined;
}
