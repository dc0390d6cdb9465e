// A run's dependencies (--deps): create them, wait until they are ready, and watch them while the
// tests run. Imperative shell over KubeApi; the verdicts come from ./tracker.ts.
import { InfraError, messageOf } from '../core/errors.js';
import { formatDuration } from '../core/format.js';
import type { LogSink, Output } from '../core/output.js';
import { eventsOf } from '../kube/events.js';
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
import type { World } from '../kube/world.js';
import { LogFollower } from '../logs/follower.js';
import { ownedBy, type Dependency } from '../manifests/deps.js';
import { LABEL_ROLE, LABEL_RUN_ID } from '../manifests/jobs.js';
import { createForRun } from '../objects/create.js';
import { printEvents } from '../objects/events.js';
import type { Ledger } from '../objects/ledger.js';
import type { StuckGraces } from '../pods/problems.js';
import { DependencyTracker, type DependenciesVerdict, type TrackedDependency } from './tracker.js';

/** How long an explanation waits for the log of a container that ended to be read, ms. */
const SETTLE_MS = 3_000;

/** The part of the world the dependencies use: they print info, warnings and debug lines. */
export type DependencyWorld = Pick<World, 'client' | 'now'> & {
  out: Pick<Output, 'info' | 'warn' | 'debug'>;
};

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
  private readonly tracker: DependencyTracker;
  private readonly lastLines = new Map<string, string[]>();
  private readonly inner = new AbortController();
  private readonly informers: Promise<void>[] = [];
  private readonly follower: LogFollower;
  private onChange: () => void = () => {};
  private failedInformer: Error | undefined;

  constructor(
    private readonly world: DependencyWorld,
    private readonly plan: DependencyPlan,
    private readonly ledger: Ledger,
    private readonly signal: AbortSignal,
  ) {
    this.tracker = new DependencyTracker(plan.graces);
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
      this.tracker.created(dep, created);
    }
    out.info(`created ${this.plan.deps.map((d) => `${d.res.kind}/${d.name}`).join(', ')}`);

    const deadline = started + this.plan.timeoutMs;
    let lastProgress = now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    const verdict = await new Promise<DependenciesVerdict>((resolve, reject) => {
      const check = () => {
        if (this.failedInformer) return reject(this.failedInformer);
        const v = this.tracker.verdict(now(), deadline, this.plan.timeoutMs);
        if (v.state !== 'waiting') return resolve(v);
        if (now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now();
          out.info(`waiting for dependencies (${formatDuration(now() - started)}): ${v.why}`);
        }
      };
      // Grace periods and the deadline pass without any event: look again every second; read
      // the events of what only events explain (a mount failure, no pod created), one read at a
      // time.
      let reading = false;
      timer = setInterval(() => {
        check();
        const due = reading ? [] : this.tracker.eventChecks(now());
        if (due.length === 0) return;
        reading = true;
        void Promise.all(
          due.map(async (o) => {
            const { events, error } = await eventsOf(this.world.client, o, this.signal);
            if (error) out.debug(`events of ${o.metadata?.name}: ${error}`);
            else this.tracker.onEvents(o, events, now());
          }),
        ).finally(() => {
          reading = false;
          check();
        });
      }, 1000);
      onAbort = () => reject(asError(this.signal.reason));
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.onChange = check;
      check();
    }).finally(() => {
      clearInterval(timer);
      this.signal.removeEventListener('abort', onAbort);
      this.onChange = () => {};
    });

    if (verdict.state === 'failed') {
      out.warn(verdict.why);
      await this.explain(verdict.t, verdict.pod);
      throw new InfraError(
        `${verdict.why} (events and last log lines above); the test Jobs were not created`,
      );
    }
    this.tracker.markReady();
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
              (items) =>
                this.tracker
                  .onPodList(ns, items, this.world.now())
                  .forEach((p) => this.follower.update(p.pod, p.deleted)),
              (p, deleted) => {
                if (this.tracker.onPod(p, deleted, this.world.now())) {
                  this.follower.update(p, deleted);
                }
              },
            ),
          );
        } else if (res === ENDPOINTS) {
          this.informers.push(
            watch<Endpoints>(
              ENDPOINTS,
              ns,
              (items) => items.forEach((e) => this.tracker.onEndpoints(ns, e, false)),
              (e, deleted) => this.tracker.onEndpoints(ns, e, deleted),
            ),
          );
        } else {
          const update = (o: Workload, deleted: boolean) =>
            this.tracker.onWorkload(res, ns, o, deleted);
          this.informers.push(
            watch<Workload>(res, ns, (items) => items.forEach((o) => update(o, false)), update),
          );
        }
      }
    }
  }

  private watchForBreakage(): void {
    const b = this.tracker.breakage();
    if (!b) return;
    this.world.out.warn(b.what);
    void this.explain(b.t, b.pod).finally(() =>
      this.breakNow(
        new InfraError(
          `${b.what}; test results after this are void (events and last log lines above)`,
        ),
      ),
    );
  }

  /** Prints the recent events and last log lines of a dependency (and of `pod`). */
  private async explain(t: TrackedDependency | undefined, pod: Pod | undefined): Promise<void> {
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
    // A container that ended at once may not have been read yet: wait for it, briefly.
    await Promise.all(pods.map((p) => this.follower.settle(p, SETTLE_MS)));
    for (const p of pods) {
      const name = p.metadata?.name ?? '?';
      const containers = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map(
        (c) => c.name,
      );
      for (const c of containers) {
        const lines = this.lastLines.get(`${name}/${c}`);
        if (!lines?.length) continue;
        out.info(`  last log lines of pod/${name}, container ${c}:`);
        lines.forEach((l) => out.info(`    ${l}`));
      }
    }
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new InfraError(messageOf(e));
}
