// What a run created: references to objects, and the ledger that teardown deletes in reverse.
import { JOBS, type Resource } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { podSelectorOf } from '../kube/selectors.js';

/** Which part of a run an object belongs to; teardown goes test → dependency → anchor. */
export type Stage = 'test' | 'dependency' | 'anchor';

/** An object that exists in the cluster because of this run (or is to be deleted). */
export interface ObjectRef {
  res: Resource;
  namespace: string;
  name: string;
  /** When known: a newer object of the same name is then never touched. */
  uid?: string | undefined;
  /**
   * Jobs: the label selector of their pods, when known. The Job is then deleted with
   * propagationPolicy Background, kubestep deletes its pods (else the garbage collector does)
   * and waits for them: ~70 ms for an ended pod; Foreground took 100-900 ms on the local cluster.
   */
  pods?: string | undefined;
  /**
   * Jobs: pods whose main containers ended while sidecars ran, by name: deleted right after the
   * Job, with a short grace period (pods/sidecars.ts SIDECAR_STOP_GRACE_S).
   */
  sidecarPods?: string[] | undefined;
  /**
   * Jobs: every pod that is left of a finished Job, all ended (the run saw each one to its end;
   * jobs/tracker.ts endedPods). Teardown deletes them by name and waits for nothing when each is
   * gone at once (an ended pod is); without it, teardown lists the Job's pods and waits for them.
   * The anchor has none (`parallelism: 0`).
   */
  endedPods?: { name: string; uid: string }[] | undefined;
}

/** The ObjectRef of `object` (as the API server returned it) of kind `res`. */
export function refOf(res: Resource, object: KubeObject): ObjectRef {
  return {
    res,
    namespace: object.metadata?.namespace ?? '',
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid,
    pods: res === JOBS ? podSelectorOf(object) : undefined,
  };
}

/** A created object and its stage. */
export interface CreatedObject extends ObjectRef {
  stage: Stage;
}

/** The objects a run created, in order of creation. */
export class Ledger {
  readonly items: CreatedObject[] = [];

  /** Records `object` (as the API server returned it) as created. */
  add(res: Resource, object: KubeObject, stage: Stage): void {
    this.items.push({
      ...refOf(res, object),
      stage,
      ...(stage === 'anchor' ? { endedPods: [] } : {}),
    });
  }
}

/** `job/tests`, for messages. */
export function refName(o: ObjectRef): string {
  return `${o.res.kind}/${o.name}`;
}
