// The verdict on one workload's rollout at a moment: done, still waiting, or failed early from
// what the new revision's pods show, with the graces of test pods. Pure: objects and `nowMs` in.
import type { KubeObject, Pod } from '../kube/types.js';
import { isPodReady, ProblemClock, type StuckGraces } from '../pods/problems.js';
import { isOfRevision, newRevision, rolloutPodProblem, type RevisionLabel } from './revision.js';
import { rolloutStatus } from './rollout.js';

/** Where a rollout stands, and for a failure: who is to blame (exit 1) or the cluster (exit 3). */
export type RolloutVerdict =
  | { kind: 'waiting'; message: string }
  | { kind: 'done'; message: string }
  | {
      /** `broken`: the new version is (crashes, readiness, progress deadline): exit 1; `stuck`: its pods cannot start (image, scheduling, configuration): exit 3. */
      kind: 'broken' | 'stuck';
      reason: string;
      message: string;
      pod?: string | undefined;
      container?: string | undefined;
    };

/** The limits of a rollout (the deploy flags). */
export interface RolloutLimits {
  graces: StuckGraces;
  /** More restarts of a container of the new revision than this fail the rollout. */
  maxRestarts: number;
  /** How long a running pod of the new revision may stay not ready, ms. */
  readinessGraceMs: number;
}

/** Reasons that mean the pods cannot start, not that the new version is wrong (exit 3). */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'Unschedulable',
  'CreateContainerConfigError',
  'CreateContainerError',
  'FailedMount',
  'FailedAttachVolume',
  'Evicted',
]);

/**
 * True when a Deployment's `ProgressDeadlineExceeded` condition is about another ReplicaSet than
 * the new revision's: left from an earlier rollout (one that failed before this deploy rolled the
 * Deployment back to an older template), until the controller records progress again.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#failed-deployment
 */
export function staleDeadline(workload: KubeObject, rev: RevisionLabel | undefined): boolean {
  if (workload.kind !== 'Deployment' || !rev) return false;
  const progressing = (
    workload as { status?: { conditions?: { type?: string; message?: string }[] } }
  ).status?.conditions?.find((c) => c.type === 'Progressing');
  const named = /ReplicaSet "([^"]+)"/.exec(progressing?.message ?? '')?.[1];
  return named !== undefined && named !== `${workload.metadata?.name ?? ''}-${rev.value}`;
}

/** Judges one workload's rollout over time (it remembers since when each pod has had a problem). */
export class RolloutJudge {
  private readonly clock = new ProblemClock();
  /** When each pod of the new revision was first seen running and not ready, ms. */
  private readonly notReadySince = new Map<string, number>();

  constructor(private readonly limits: RolloutLimits) {}

  /**
   * The verdict on `workload` (as last read) given what it owns (ReplicaSets or
   * ControllerRevisions) and the pods its selector matches, at `nowMs`: a failure of a pod of the
   * new revision once its grace has passed (old pods are never judged), else the rollout status.
   * Source: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#deployment-status
   */
  judge(
    workload: KubeObject,
    owned: readonly KubeObject[],
    pods: readonly Pod[],
    nowMs: number,
  ): RolloutVerdict {
    const status = rolloutStatus(workload);
    if (!status) return { kind: 'done', message: 'no rollout' };
    // Until the controller has seen the new spec, its revision marks are the previous one's: the
    // pods they name are the old version's.
    const observed = (workload as { status?: { observedGeneration?: number } }).status
      ?.observedGeneration;
    if ((workload.metadata?.generation ?? 0) > (observed ?? 0))
      return { kind: 'waiting', message: status.message };
    const rev = newRevision(workload, owned);
    for (const pod of rev ? pods.filter((p) => isOfRevision(p, rev)) : []) {
      const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
      const name = pod.metadata?.name;
      const problem = rolloutPodProblem(pod, this.limits.graces, this.limits.maxRestarts);
      this.clock.note(uid, problem?.reason, nowMs);
      if (problem && nowMs - this.clock.startedMs(uid, problem.reason, nowMs) >= problem.graceMs) {
        const kind = STUCK_REASONS.has(problem.reason) ? 'stuck' : 'broken';
        return {
          kind,
          reason: problem.reason,
          message: problem.message,
          pod: name,
          container: problem.container,
        };
      }
      if (pod.status?.phase === 'Running' && !isPodReady(pod)) {
        const since = this.notReadySince.get(uid) ?? nowMs;
        this.notReadySince.set(uid, since);
        if (nowMs - since >= this.limits.readinessGraceMs) {
          // The container whose probe fails: its log says why, as a rule.
          const unready = pod.status?.containerStatuses?.find((c) => !c.ready)?.name;
          return {
            kind: 'broken',
            reason: 'NotReady',
            message: `pod ${name} has run for ${Math.round((nowMs - since) / 1000)} s without becoming ready (${unready ? `the readiness probe of container ${unready}` : 'its readiness probe'} does not pass)`,
            pod: name,
            container: unready,
          };
        }
      } else this.notReadySince.delete(uid);
    }
    if (status.failed && !staleDeadline(workload, rev))
      return {
        kind: 'broken',
        reason: 'ProgressDeadlineExceeded',
        message: `${status.failed}: ${status.message}`,
      };
    return status.done
      ? { kind: 'done', message: status.message }
      : { kind: 'waiting', message: status.message };
  }
}
