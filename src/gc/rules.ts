// Which objects of earlier runs are garbage: the rules shared by `kubestep gc` and the sweep at
// the start of `run` and `up`. Pure: plain objects and `now` in, verdicts out.
import type { Job, KubeObject } from '../kube/types.js';
import { jobState } from '../jobs/status.js';
import {
  ANNOTATION_ALIVE_UNTIL,
  LABEL_MANAGED_BY,
  LABEL_ROLE,
  LABEL_RUN_ID,
  LABEL_TEMPLATE,
  MANAGED_BY,
} from '../manifests/jobs.js';

/** Where a run stands, as seen from another process. */
export type RunState =
  /** Its kubestep renews the heartbeat (or `up` left it for its lifetime): never touched. */
  | { kind: 'live'; untilMs: number }
  /** It has an anchor whose heartbeat expired: kubestep was killed, nobody watches its objects. */
  | { kind: 'killed'; sinceMs: number }
  /**
   * No anchor (it ended and kept its objects, or its anchor is being deleted): nobody watches
   * its objects, but a Job of it may have been left running on purpose.
   */
  | { kind: 'ended' };

/**
 * The state of a run from its anchor Job in one namespace (undefined: none found) at `nowMs`.
 * An anchor without the heartbeat annotation (older kubestep) counts as live until its
 * `ttlSecondsAfterFinished` has passed since it was created, else until `maxAgeMs` has.
 */
export function runStateOf(anchor: Job | undefined, nowMs: number, maxAgeMs: number): RunState {
  if (!anchor || anchor.metadata?.deletionTimestamp) return { kind: 'ended' };
  const until = Date.parse(anchor.metadata?.annotations?.[ANNOTATION_ALIVE_UNTIL] ?? '');
  let untilMs = until;
  if (!Number.isFinite(untilMs)) {
    const created = Date.parse(anchor.metadata?.creationTimestamp ?? '') || nowMs;
    const ttl = anchor.spec?.ttlSecondsAfterFinished;
    untilMs = created + (ttl === undefined ? maxAgeMs : ttl * 1000);
  }
  return untilMs > nowMs ? { kind: 'live', untilMs } : { kind: 'killed', sinceMs: untilMs };
}

/**
 * Whether `labels` hold every label kubestep sets on its objects: managed-by, run id and role,
 * and for test Jobs and dependencies (not the anchor) the template.
 */
export function hasRunLabels(labels: Record<string, string> | undefined): boolean {
  if (!labels?.[LABEL_RUN_ID] || labels[LABEL_MANAGED_BY] !== MANAGED_BY) return false;
  const role = labels[LABEL_ROLE];
  if (role === 'anchor') return true;
  return (role === 'test' || role === 'dependency') && Boolean(labels[LABEL_TEMPLATE]);
}

/** The limits of a collection. */
export interface GcRules {
  /** Objects of runs that are over are garbage once older than this, ms (finished Jobs: since they finished). */
  olderThanMs: number;
  /** A test Job that has not finished is garbage once older than this, whatever its run, ms. */
  maxAgeMs: number;
}

/** Why an object is deleted; also the key of the counts gc prints. */
export type DeleteReason = 'run killed' | 'run ended' | 'Job finished' | 'Job older than --max-age';

/** Why an object is kept. */
export type KeepReason =
  | 'run live'
  | 'younger than --older-than'
  | 'Job still running'
  | 'being deleted'
  | 'not all kubestep labels'
  | 'run has kept objects';

/** What to do with one object. */
export type Verdict =
  { delete: true; reason: DeleteReason } | { delete: false; reason: KeepReason };

/**
 * The verdict on one object labelled `app.kubernetes.io/managed-by=kubestep` whose run is in
 * `state`, at `nowMs`:
 * - objects being deleted are kept, and objects without every label kubestep sets (managed-by, run
 *   id, role, and the template of test Jobs and dependencies; an anchor has no template): a
 *   selector on one or two labels must not make gc delete what someone else labelled so;
 * - a test Job that has not finished is deleted once older than `maxAgeMs` (whatever its run),
 *   else only when its run was killed (no kubestep watches it) and it is older than
 *   `olderThanMs`: a run that ended may have left it running on purpose;
 * - nothing of a live run is deleted;
 * - a finished test Job is deleted once it finished more than `olderThanMs` ago;
 * - dependencies and the anchor once they are older than `olderThanMs`.
 * Source: Prow's sinker (age limits; running jobs are kept until a maximum age).
 */
export function gcVerdict(
  object: KubeObject,
  state: RunState,
  nowMs: number,
  rules: GcRules,
): Verdict {
  const meta = object.metadata ?? {};
  if (meta.deletionTimestamp) return { delete: false, reason: 'being deleted' };
  if (!hasRunLabels(meta.labels)) return { delete: false, reason: 'not all kubestep labels' };
  const ageMs = nowMs - (Date.parse(meta.creationTimestamp ?? '') || nowMs);
  const isTestJob = object.kind === 'Job' && meta.labels?.[LABEL_ROLE] !== 'anchor';
  const job = isTestJob ? jobState(object) : undefined;
  if (job?.phase === 'running') {
    if (ageMs >= rules.maxAgeMs) return { delete: true, reason: 'Job older than --max-age' };
    if (state.kind === 'live') return { delete: false, reason: 'run live' };
    if (state.kind === 'ended') return { delete: false, reason: 'Job still running' };
    return ageMs >= rules.olderThanMs
      ? { delete: true, reason: 'run killed' }
      : { delete: false, reason: 'younger than --older-than' };
  }
  if (state.kind === 'live') return { delete: false, reason: 'run live' };
  if (job) {
    const finishedMs =
      Date.parse((object as Job).status?.completionTime ?? job.at ?? '') || nowMs - ageMs;
    return nowMs - finishedMs >= rules.olderThanMs
      ? { delete: true, reason: 'Job finished' }
      : { delete: false, reason: 'younger than --older-than' };
  }
  if (ageMs < rules.olderThanMs) return { delete: false, reason: 'younger than --older-than' };
  return { delete: true, reason: state.kind === 'killed' ? 'run killed' : 'run ended' };
}

/** An object found by a collection, with its kind's plural for grouping. */
export interface Found<R> {
  res: R;
  object: KubeObject;
}

/** One decision of a collection plan. */
export interface Decision<R> extends Found<R> {
  namespace: string;
  runId: string;
  verdict: Verdict;
}

/**
 * Decides on every object found in one namespace: groups them by run id, takes each run's state
 * from its anchor (a Job labelled `kubestep.dev/role=anchor`), and applies {@link gcVerdict}.
 * An anchor is kept while anything else of its run is kept: deleting it would delete those
 * through the garbage collector. Returns the decisions, those to delete first and in deletion
 * order: test Jobs, then the other objects, the anchors last (so that a run stays recognisable
 * until the end).
 */
export function planCollection<R>(
  namespace: string,
  found: readonly Found<R>[],
  nowMs: number,
  rules: GcRules,
): Decision<R>[] {
  const anchors = new Map<string, Job>();
  for (const f of found) {
    const runId = f.object.metadata?.labels?.[LABEL_RUN_ID];
    if (runId && isAnchor(f.object)) anchors.set(runId, f.object);
  }
  const decisions = keepNeededAnchors(
    found.map((f) => {
      const runId = f.object.metadata?.labels?.[LABEL_RUN_ID] ?? '';
      const state = runStateOf(anchors.get(runId), nowMs, rules.maxAgeMs);
      return { ...f, namespace, runId, verdict: gcVerdict(f.object, state, nowMs, rules) };
    }),
  );
  const rank = (d: Decision<R>) =>
    !d.verdict.delete ? 3 : isAnchor(d.object) ? 2 : d.object.kind === 'Job' ? 0 : 1;
  return decisions.sort((a, b) => rank(a) - rank(b));
}

/** True for a run's anchor Job. */
export function isAnchor(object: KubeObject): boolean {
  return object.kind === 'Job' && object.metadata?.labels?.[LABEL_ROLE] === 'anchor';
}

/** Turns an anchor's delete into a keep when anything else of its run is kept (not being deleted). */
function keepNeededAnchors<R>(decisions: Decision<R>[]): Decision<R>[] {
  const keptRuns = new Set(
    decisions
      .filter((d) => !d.verdict.delete && d.verdict.reason !== 'being deleted')
      .filter((d) => !isAnchor(d.object))
      .map((d) => d.runId),
  );
  return decisions.map((d) =>
    d.verdict.delete && isAnchor(d.object) && keptRuns.has(d.runId)
      ? { ...d, verdict: { delete: false, reason: 'run has kept objects' } }
      : d,
  );
}

/** Counts of decisions by verdict and reason, e.g. `{ delete: { 'run killed': 3 }, keep: {...} }`. */
export function countByReason<R>(decisions: readonly Decision<R>[]): {
  delete: Record<string, number>;
  keep: Record<string, number>;
} {
  const out = { delete: {} as Record<string, number>, keep: {} as Record<string, number> };
  for (const d of decisions) {
    const bucket = d.verdict.delete ? out.delete : out.keep;
    bucket[d.verdict.reason] = (bucket[d.verdict.reason] ?? 0) + 1;
  }
  return out;
}
