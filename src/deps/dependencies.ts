// A run's dependencies (--deps): create them, wait until they are ready, and watch them while the
// tests run. Imperative shell over KubeApi; the verdicts come from ./readiness.ts.
import { InfraError, messageOf } from '../core/errors.js';
import type { KubeApi } from '../kube/api.js';
import { runInformer } from '../kube/informer.js';
import {
  DEPLOYMENTS,
  ENDPOINTS,
  PODS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../kube/resources.js';
import type { Endpoints, Job, KubeObject, Pod, Workload } from '../kube/types.js';
import { LogFollower } from '../logs/follower.js';
import type { LogSink } from '../core/output.js';
import { ownedBy, type Dependency } from '../manifests/deps.js';
import { LABEL_ROLE, LABEL_RUN_ID } from '../manifests/jobs.js';
import { formatDuration } from '../core/format.js';
import { createForRun } from '../objects/create.js';
import { printEvents } from '../objects/events.js';
import type { Ledger } from '../objects/ledger.js';
import { podProblem, ProblemClock, type StuckGraces } from '../pods/problems.js';
import {
  podBreakage,
  readinessOf,
  selectorMatches,
  type DependencyView,
  type Readiness,
} from './readiness.js';

/** What the dependencies print (to stderr). */
export interface DependencyOutput {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** The injected world of the dependencies. */
export interface DependencyWorld {
  client: KubeApi;
  out: DependencyOutput;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** What to create and how long to wait. */
export interface DependencyPlan {
  runId: string;
  deps: readonly Dependency[];
  /** How long they may take to become ready, ms (--deps-timeout). */
  timeoutMs: number;
  /** The run's anchor Job per namespace; each dependency becomes its dependent. */
  anchors: ReadonlyMap<string, Job>;
  /** How long a stuck pod may stay stuck, per reason. */
  graces: StuckGraces;
}

/** Lines of each container's log kept for explanations. */
const KEEP_LINES = 20;
/** While waiting, a progress line at most this often, ms. */
const PROGRESS_EVERY_MS = 30_000;

interface Tracked extends DependencyView {
  dep: Dependency;
}

/**
 * The dependencies of one run. `start` creates them in document order (recording each in the
 * ledger) and resolves when all are ready; it throws InfraError when one cannot become ready
 * (after printing its reason, events and last log lines) or `timeoutMs` passes. Afterwards
 * `broken` rejects with InfraError as soon as a dependency pod restarts, is evicted or deleted,
 * or a dependency is deleted. `stop` ends all watching.
 */
export class Dependencies {
  /** Rejects when a ready dependency breaks; never resolves. */
  readonly broken: Promise<never>;
  private breakNow!: (err: Error) => void;
  private readonly tracked: Tracked[] = [];
  private readonly pods = new Map<string, { pod: Pod; deleted: boolean }>();
  private readonly endpoints = new Map<string, Endpoints>();
  private readonly problems = new ProblemClock();
  private readonly lastLines = new Map<string, string[]>();
  private baseline: Map<string, Pod> | undefined;
  private readonly inner = new AbortController();
  private readonly informers: Promise<void>[] = [];
  private readonly follower: LogFollower;
  private onChange: () => void = () => {};
  private failedInformer: Error | undefined;
  private brokenReported = false;

  constructor(
    private readonly world: DependencyWorld,
    private readonly plan: DependencyPlan,
    private readonly ledger: Ledger,
    private readonly signal: AbortSignal,
  ) {
    this.broken = new Promise<never>((_, reject) => (this.breakNow = reject));
    this.broken.catch(() => undefined);
    const keep: LogSink = {
      write: (source, lines) => {
        const key = `${source.pod}/${source.container}`;
        const kept = [...(this.lastLines.get(key) ?? []), ...lines].slice(-KEEP_LINES);
        this.lastLines.set(key, kept);
      },
      note: (source, message) => world.out.debug(`pod/${source.pod}: ${message}`),
      debug: (source, message) => world.out.debug(`pod/${source.pod}: ${message}`),
    };
    this.follower = new LogFollower(
      world.client,
      keep,
      AbortSignal.any([signal, this.inner.signal]),
    );
  }

  /** Creates the dependencies and waits until all are ready; see the class comment. */
  async start(): Promise<void> {
    const { out, now } = this.world;
    const started = now();
    this.startInformers();
    for (const dep of this.plan.deps) {
      const anchor = this.plan.anchors.get(dep.namespace);
      const body = anchor ? ownedBy(dep.object, anchor) : dep.object;
      const { object: created, adopted } = await createForRun(
        this.world.client,
        dep.res,
        dep.namespace,
        body,
        this.plan.runId,
        this.signal,
      );
      if (adopted)
        out.debug(`${dep.res.kind}/${dep.name} exists already with this run id: using it`);
      this.ledger.add(dep.res, created, 'dependency');
      this.tracked.push({
        dep,
        res: dep.res,
        name: dep.name,
        object: created,
        deleted: false,
        pods: [],
      });
    }
    out.info(`created ${this.plan.deps.map((d) => `${d.res.kind}/${d.name}`).join(', ')}`);

    const deadline = started + this.plan.timeoutMs;
    let lastProgress = now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    const verdict = await new Promise<{ ok: true } | { ok: false; r: Readiness; t?: Tracked }>(
      (resolve, reject) => {
        const check = () => {
          if (this.failedInformer) return reject(this.failedInformer);
          const states = this.tracked.map((t) => ({ t, r: this.readiness(t) }));
          const failed = states.find((s) => s.r.state === 'failed');
          if (failed && failed.r.state === 'failed') {
            return resolve({
              ok: false,
              r: { ...failed.r, why: `dependency ${failed.r.why}` },
              t: failed.t,
            });
          }
          const waiting = states.filter((s) => s.r.state !== 'ready');
          if (waiting.length === 0) return resolve({ ok: true });
          const why = () => waiting.map((s) => (s.r as { why: string }).why).join('; ');
          if (now() >= deadline) {
            return resolve({
              ok: false,
              r: {
                state: 'failed',
                why: `dependencies not ready after --deps-timeout ${formatDuration(this.plan.timeoutMs)}: ${why()}`,
              },
              t: waiting[0]!.t,
            });
          }
          if (now() - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = now();
            out.info(`waiting for dependencies (${formatDuration(now() - started)}): ${why()}`);
          }
        };
        // Grace periods and the deadline pass without any event: look again every second.
        timer = setInterval(check, 1000);
        onAbort = () => reject(asError(this.signal.reason));
        this.signal.addEventListener('abort', onAbort, { once: true });
        this.onChange = check;
        check();
      },
    ).finally(() => {
      clearInterval(timer);
      this.signal.removeEventListener('abort', onAbort);
      this.onChange = () => {};
    });

    if (!verdict.ok) {
      const why = (verdict.r as { why: string }).why;
      out.warn(why);
      await this.explain(verdict.t, (verdict.r as { pod?: Pod }).pod);
      throw new InfraError(
        `${why} (events and last log lines above); the test Jobs were not created`,
      );
    }
    this.baseline = new Map(
      [...this.pods.entries()].filter(([, p]) => !p.deleted).map(([uid, p]) => [uid, p.pod]),
    );
    out.info(`dependencies ready in ${formatDuration(now() - started)}`);
    this.onChange = () => this.watchForBreakage();
  }

  /** Stops watching and following logs. */
  async stop(): Promise<void> {
    this.onChange = () => {};
    this.inner.abort(new Error('done'));
    await Promise.allSettled(this.informers);
    await this.follower.stop();
  }

  private startInformers(): void {
    const signal = AbortSignal.any([this.signal, this.inner.signal]);
    const selector = {
      labelSelector: `${LABEL_RUN_ID}=${this.plan.runId},${LABEL_ROLE}=dependency`,
    };
    const byNs = new Map<string, Set<Resource>>();
    for (const d of this.plan.deps) {
      const kinds = byNs.get(d.namespace) ?? new Set<Resource>();
      kinds.add(PODS);
      if (d.res === DEPLOYMENTS || d.res === STATEFULSETS) kinds.add(d.res);
      if (d.res === SERVICES) kinds.add(ENDPOINTS);
      byNs.set(d.namespace, kinds);
    }
    const watch = <T extends KubeObject>(
      res: Resource,
      ns: string,
      onList: (items: T[]) => void,
      onEvent: (o: T, deleted: boolean) => void,
    ) =>
      runInformer<T>(
        this.world.client,
        res,
        ns,
        selector,
        {
          onList: (items) => {
            onList(items);
            this.onChange();
          },
          onEvent: (type, o) => {
            onEvent(o, type === 'DELETED');
            this.onChange();
          },
          onReconnect: (why) => this.world.out.debug(why),
        },
        signal,
      ).catch((err: unknown) => {
        if (signal.aborted) return;
        this.failedInformer = asError(err);
        this.breakNow(asError(err));
        this.onChange();
      });
    for (const [ns, kinds] of byNs) {
      for (const res of kinds) {
        if (res === PODS) {
          this.informers.push(
            watch<Pod>(
              PODS,
              ns,
              (items) => {
                const seen = new Set(items.map((p) => p.metadata?.uid ?? ''));
                for (const [uid, p] of this.pods) {
                  if (p.pod.metadata?.namespace === ns && !seen.has(uid)) this.setPod(p.pod, true);
                }
                items.forEach((p) => this.setPod(p, false));
              },
              (p, deleted) => this.setPod(p, deleted),
            ),
          );
        } else if (res === ENDPOINTS) {
          this.informers.push(
            watch<Endpoints>(
              ENDPOINTS,
              ns,
              (items) => items.forEach((e) => this.endpoints.set(`${ns}/${e.metadata?.name}`, e)),
              (e, deleted) => {
                const key = `${ns}/${e.metadata?.name}`;
                if (deleted) this.endpoints.delete(key);
                else this.endpoints.set(key, e);
              },
            ),
          );
        } else {
          const update = (o: Workload, deleted: boolean) => {
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
          };
          this.informers.push(
            watch<Workload>(res, ns, (items) => items.forEach((o) => update(o, false)), update),
          );
        }
      }
    }
  }

  private setPod(pod: Pod, deleted: boolean): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const known = this.pods.get(uid);
    if (known?.deleted) return;
    this.pods.set(uid, { pod, deleted });
    const problem = podProblem(pod, this.plan.graces);
    this.problems.note(uid, problem?.reason, this.world.now());
    this.follower.update(pod, deleted);
  }

  /** The pods of a dependency: itself for a Pod, the ones its selector matches otherwise. */
  private podsOf(t: Tracked): { pod: Pod; deleted: boolean }[] {
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

  private readiness(t: Tracked): Readiness {
    const pods = this.podsOf(t);
    if (t.res === PODS) {
      t.deleted ||= pods.some((p) => p.deleted);
      const latest = pods[0]?.pod;
      if (latest) t.object = latest;
    }
    t.pods = pods.filter((p) => !p.deleted).map((p) => p.pod);
    t.endpoints =
      t.res === SERVICES ? this.endpoints.get(`${t.dep.namespace}/${t.name}`) : undefined;
    return readinessOf(
      t,
      (pod, reason) => this.problems.startedMs(pod.metadata?.uid ?? '', reason, this.world.now()),
      this.world.now(),
      this.plan.graces,
    );
  }

  private watchForBreakage(): void {
    if (this.brokenReported) return;
    for (const t of this.tracked) {
      let why: string | undefined;
      let pod: Pod | undefined;
      if (t.deleted) why = `${t.res.kind}/${t.name} was deleted`;
      for (const p of this.podsOf(t)) {
        if (why) break;
        why = podBreakage(this.baseline?.get(p.pod.metadata?.uid ?? ''), p.pod, p.deleted);
        pod = p.pod;
      }
      if (why) {
        this.brokenReported = true;
        const what = `dependency ${t.res.kind}/${t.name} failed while the tests ran: ${why}`;
        this.world.out.warn(what);
        void this.explain(t, pod).finally(() =>
          this.breakNow(
            new InfraError(
              `${what}; test results after this are void (events and last log lines above)`,
            ),
          ),
        );
        return;
      }
    }
  }

  /** Prints the recent events and last log lines of a dependency (and of `pod`). */
  private async explain(t: Tracked | undefined, pod: Pod | undefined): Promise<void> {
    if (!t) return;
    const { out } = this.world;
    const pods = pod ? [pod] : t.pods.slice(0, 2);
    const subjects: KubeObject[] = [
      t.object,
      ...pods.filter((p) => p.metadata?.uid !== t.object.metadata?.uid),
    ];
    await printEvents(
      this.world,
      subjects.map((o) => ({
        label: `${o === t.object ? t.res.kind : 'pod'}/${o.metadata?.name}`,
        object: o,
      })),
      this.signal,
    );
    for (const p of pods) {
      const name = p.metadata?.name ?? '?';
      const containers = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map(
        (c) => c.name,
      );
      for (const c of containers) {
        const lines = this.lastLines.get(`${name}/${c}`);
        if (!lines?.length) continue;
        out.info(`  last log lines of pod/${name}, container ${c}:`);
        lines.forEach((l) => out.info(`    ${l.replace(/\n$/, '')}`));
      }
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new InfraError(messageOf(e));
}
