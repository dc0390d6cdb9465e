// How mirrored log lines look. Pure.
import type { TestJob } from '../manifests/jobs.js';
import type { LogSource } from '../core/output.js';

/**
 * True when a run can have more than one log source, so that every line needs its
 * `[pod/NAME/CONTAINER] ` prefix: several Jobs, several containers (init containers count), or
 * a Job that may start more than one pod (`backoffLimit` > 0, its default being 6;
 * `parallelism` or `completions` > 1; `restartPolicy: OnFailure` restarts). Decided once from
 * the manifests so that the format never changes in the middle of a run.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-backoff-failure-policy
 */
export function needsPrefix(jobs: readonly TestJob[]): boolean {
  if (jobs.length !== 1) return true;
  const spec = jobs[0]!.job.spec!;
  const pod = spec.template!.spec!;
  const containers = (pod.initContainers?.length ?? 0) + pod.containers.length;
  return (
    containers > 1 ||
    (spec.backoffLimit ?? 6) > 0 ||
    (spec.parallelism ?? 1) > 1 ||
    (spec.completions ?? 1) > 1 ||
    pod.restartPolicy === 'OnFailure'
  );
}

/** The prefix of a source's lines, as `kubectl logs --prefix` writes it: `[pod/NAME/CONTAINER] `. */
export function linePrefix(source: LogSource): string {
  return `[pod/${source.pod}/${source.container}] `;
}
