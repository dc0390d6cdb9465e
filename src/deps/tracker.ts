// Everything that decides about a run's dependencies: which pods belong to which dependency,
// readiness against the --deps-timeout deadline, stuck pods and their graces, and what counts as
// breaking once they were ready. Pure: objects and `nowMs` in, verdicts out. dependencies.ts is
// the shell (creation, informers, timers, logs, explanations).
import { formatDuration } from '../core/format.js';
import { DEPLOYMENTS, PODS, SERVICES, STATEFULSETS, type Resource } from '../kube/resources.js';
import type { Endpoints, KubeEvent, KubeObject, Pod, Workload } from '../kube/types.js';
import type { Dependency } from '../manifests/deps.js';
import {
  isBeingCreated,
  mountFailureOf,
  podProblem,
  ProblemClock,
  type MountFailure,
  type StuckGraces,
} from '../pods/problems.js';
import {
  podBreakage,
  readinessOf,
  selectorMatches,
  workloadProblem,
  type DependencyView,
} from './readiness.js';

/** How long a pod may be created, or a StatefulSet have no pod, before its events are read, ms. */
export const DEP_EVENTS_AFTER_MS = 5_000;

/** One dependency as the tracker knows it. */
export interface TrackedDependency extends DependencyView {
  dep: Dependency;
}

/** Where the dependencies stand while kubestep waits for them. */
export type DependenciesVerdict =
  | { state: 'ready' }
  | { state: 'waiting'; why: string }
  /** `t`: the dependency to explain; `pod`: its pod that failed, when one did. */
  | { state: 'failed'; why: string; t?: TrackedDependency | undefined; pod?: Pod | undefined };

/** A ready dependency that broke while the tests ran. */
export interface Breakage {
  /** One sentence: `dependency Pod/db failed while the tests ran: …`. */
  what: string;
  t: TrackedDependency;
  pod?: Pod | undefined;
}

/**
 * The state of a run's dependencies. Feed it the created objects ({@link created}) and what the
 * informers see; ask {@link verdict} while waiting, call {@link markReady} once they are, then
 * {@link breakage} after each event.
 */
export class DependencyTracker {
  readonly tracked: TrackedDependency[] = [];
  private readonly pods = new Map<string, { pod: Pod; deleted: boolean }>();
  private readonly endpoints = new Map<string, Endpoints>();
  /** Since when each pod has had its current problem: the start of its grace. */
  private readonly problems = new ProblemClock();
  /** The pods as they were when all dependencies were ready: restarts count from there. */
  private baseline: Map<string, Pod> | undefined;
  private broken = false;
  /** Pods being created, and StatefulSets without pods, by uid: since when, ms. */
  private readonly waitingSince = new Map<string, number>();
  /** The newest mount failure of a pod being created, by uid (from its events). */
  private readonly mountFailures = new Map<string, MountFailure>();
  /** When the events of an object were last read, by uid, ms. */
  private readonly lastEventCheck = new Map<string, number>();

  constructor(private readonly graces: StuckGraces) {}

  /** Records a dependency as created (`object` as the API server returned it). */
  created(dep: Dependency, object: KubeObject): void {
    this.tracked.push({ dep, res: dep.res, name: dep.name, object, deleted: false, pods: [] });
  }

  /**
   * A pod as a watch shows it (`deleted`: a DELETED event). Returns false when it is ignored: a
   * pod already seen deleted.
   */
  onPod(pod: Pod, deleted: boolean, nowMs: number): boolean {
    const uid = pod.metadata?.uid;
    if (!uid) return false;
    if (this.pods.get(uid)?.deleted) return false;
    this.pods.set(uid, { pod, deleted });
    if (!deleted && isBeingCreated(pod)) {
      if (!this.waitingSince.has(uid)) this.waitingSince.set(uid, nowMs);
    } else {
      this.waitingSince.delete(uid);
      this.mountFailures.delete(uid);
    }
    this.problems.note(
      uid,
      podProblem(pod, this.graces, this.mountFailures.get(uid))?.reason,
      nowMs,
    );
    return true;
  }

  /**
   * Objects whose events tell what the watch does not, to be read (each at most every
   * {@link DEP_EVENTS_AFTER_MS}) while the dependencies are not ready: a pod still being created
   * that long (the kubelet's `FailedMount`), a StatefulSet that long without a pod (its
   * `FailedCreate`).
   */
  eventChecks(nowMs: number): KubeObject[] {
    if (this.baseline) return [];
    const due: KubeObject[] = [];
    const consider = (o: KubeObject, waiting: boolean) => {
      const uid = o.metadata?.uid ?? '';
      if (!waiting) return void this.waitingSince.delete(uid);
      const since = this.waitingSince.get(uid) ?? nowMs;
      this.waitingSince.set(uid, since);
      const last = this.lastEventCheck.get(uid);
      if (nowMs - since < DEP_EVENTS_AFTER_MS) return;
      if (last !== undefined && nowMs - last < DEP_EVENTS_AFTER_MS) return;
      this.lastEventCheck.set(uid, nowMs);
      due.push(o);
    };
    for (const { pod, deleted } of this.pods.values()) {
      if (!deleted && this.waitingSince.has(pod.metadata?.uid ?? '')) consider(pod, true);
    }
    for (const t of this.tracked) {
      if (t.res === STATEFULSETS) consider(t.object, this.podsOf(t).length === 0);
    }
    return due;
  }

  /** The events of an object that {@link eventChecks} named. */
  onEvents(object: KubeObject, events: readonly KubeEvent[], nowMs: number): void {
    const uid = object.metadata?.uid ?? '';
    const t = this.tracked.find((x) => x.res === STATEFULSETS && x.object.metadata?.uid === uid);
    if (t) {
      const failed = [...events]
        .reverse()
        .find((e) => e.type === 'Warning' && e.reason === 'FailedCreate');
      t.failedCreate = failed?.message;
      return;
    }
    const p = this.pods.get(uid);
    if (!p) return;
    const failure = mountFailureOf(events);
    if (failure) this.mountFailures.set(uid, failure);
    else this.mountFailures.delete(uid);
    this.problems.note(uid, podProblem(p.pod, this.graces, failure)?.reason, nowMs);
  }

  /**
   * A full list of the pods in `ns`: pods known before and missing now were deleted. Returns the
   * pods whose state changed, with `deleted`, in the order to tell the log follower.
   */
  onPodList(ns: string, items: readonly Pod[], nowMs: number): { pod: Pod; deleted: boolean }[] {
    const seen = new Set(items.map((p) => p.metadata?.uid ?? ''));
    const gone = [...this.pods.values()]
      .filter(
        (p) =>
          !p.deleted && p.pod.metadata?.namespace === ns && !seen.has(p.pod.metadata?.uid ?? ''),
      )
      .map((p) => ({ pod: p.pod, deleted: true }));
    return [...gone, ...items.map((pod) => ({ pod, deleted: false }))].filter((p) =>
      this.onPod(p.pod, p.deleted, nowMs),
    );
  }

  /** A Service's Endpoints in `ns`. */
  onEndpoints(ns: string, e: Endpoints, deleted: boolean): void {
    const key = `${ns}/${e.metadata?.name}`;
    if (deleted) this.endpoints.delete(key);
    else this.endpoints.set(key, e);
  }

  /** A Deployment or StatefulSet (`res`) in `ns`; one of another uid is not ours. */
  onWorkload(res: Resource, ns: string, o: Workload, deleted: boolean): void {
    const t = this.tracked.find(
      (x) =>
        x.res === res &&
        x.dep.namespace === ns &&
        x.name === o.metadata?.name &&
        x.object.metadata?.uid === o.metadata?.uid,
    );
    if (!t) return;
    t.object = o;
    if (deleted || o.metadata?.deletionTimestamp) t.deleted = true;
  }

  /**
   * Whether all dependencies are ready at `nowMs`: the first that failed (its pod stuck past its
   * grace, ended, or deleted), else `failed` once `deadlineMs` passed (naming what is not ready;
   * `timeoutMs` is the --deps-timeout for the message), else what they wait for.
   */
  verdict(nowMs: number, deadlineMs: number, timeoutMs: number): DependenciesVerdict {
    const states = this.tracked.map((t) => ({ t, r: this.readiness(t, nowMs) }));
    for (const { t, r } of states) {
      if (r.state === 'failed')
        return { state: 'failed', why: `dependency ${r.why}`, t, pod: r.pod };
    }
    const waiting = states.flatMap((s) =>
      s.r.state === 'waiting' ? [{ t: s.t, why: s.r.why }] : [],
    );
    if (waiting.length === 0) return { state: 'ready' };
    const why = waiting.map((w) => w.why).join('; ');
    if (nowMs >= deadlineMs) {
      return {
        state: 'failed',
        why: `dependencies not ready after --deps-timeout ${formatDuration(timeoutMs)}: ${why}`,
        t: waiting[0]!.t,
      };
    }
    return { state: 'waiting', why };
  }

  /** All are ready: from now on a pod that restarts, ends or goes breaks the run. */
  markReady(): void {
    this.baseline = new Map(
      [...this.pods.entries()].filter(([, p]) => !p.deleted).map(([uid, p]) => [uid, p.pod]),
    );
  }

  /**
   * The first dependency that broke since {@link markReady}: deleted, or a pod of it restarted,
   * ended, was evicted or deleted. Reported once; undefined afterwards and while none broke.
   */
  breakage(): Breakage | undefined {
    if (this.broken || !this.baseline) return undefined;
    for (const t of this.tracked) {
      let why: string | undefined;
      let pod: Pod | undefined;
      if (t.deleted) why = `${t.res.kind}/${t.name} was deleted`;
      for (const p of this.podsOf(t)) {
        if (why) break;
        why = podBreakage(this.baseline.get(p.pod.metadata?.uid ?? ''), p.pod, p.deleted);
        pod = p.pod;
      }
      if (why) {
        this.broken = true;
        return {
          what: `dependency ${t.res.kind}/${t.name} failed while the tests ran: ${why}`,
          t,
          pod,
        };
      }
    }
    return undefined;
  }

  /** The pods of a dependency: itself for a Pod, the ones its selector matches otherwise. */
  private podsOf(t: TrackedDependency): { pod: Pod; deleted: boolean }[] {
    return [...this.pods.values()].filter(({ pod }) => {
      if (pod.metadata?.namespace !== t.dep.namespace) return false;
      if (t.res === PODS) return pod.metadata?.uid === t.object.metadata?.uid;
      if (t.res === DEPLOYMENTS || t.res === STATEFULSETS) {
        return selectorMatches(
          (t.object as Workload).spec?.selector?.matchLabels,
          pod.metadata?.labels,
        );
      }
      return false;
    });
  }

  private readiness(t: TrackedDependency, nowMs: number) {
    const pods = this.podsOf(t);
    if (t.res === PODS) {
      t.deleted ||= pods.some((p) => p.deleted);
      const latest = pods[0]?.pod;
      if (latest) t.object = latest;
    }
    t.pods = pods.filter((p) => !p.deleted).map((p) => p.pod);
    t.endpoints =
      t.res === SERVICES ? this.endpoints.get(`${t.dep.namespace}/${t.name}`) : undefined;
    t.mountFailures = this.mountFailures;
    if (t.res === DEPLOYMENTS || t.res === STATEFULSETS) {
      const uid = t.object.metadata?.uid ?? '';
      this.problems.note(uid, workloadProblem(t, this.graces)?.reason, nowMs);
    }
    return readinessOf(
      t,
      (o, reason) => this.problems.startedMs(o.metadata?.uid ?? '', reason, nowMs),
      nowMs,
      this.graces,
    );
  }
}
