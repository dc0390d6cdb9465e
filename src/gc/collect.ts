// Collecting the garbage of earlier runs: list, decide (gc/rules.ts), confirm with a fresh GET,
// delete. Used by `kubestep gc` and by the sweep at the start of `run` and `up`. Imperative shell.
import { messageOf } from '../core/errors.js';
import { listIfAllowed } from '../objects/list.js';
import type { KubeApi } from '../kube/api.js';
import type { World } from '../kube/world.js';
import type { Output } from '../core/output.js';
import { JOBS, PODS, type Resource } from '../kube/resources.js';
import type { Job, KubeObject, ObjectList } from '../kube/types.js';
import { anchorName } from '../manifests/deps.js';
import { LABEL_MANAGED_BY, LABEL_RUN_ID, LABEL_TEMPLATE, MANAGED_BY } from '../manifests/jobs.js';
import {
  countByReason,
  gcVerdict,
  isAnchor,
  planCollection,
  runStateOf,
  type Decision,
  type GcRules,
  type RunState,
} from './rules.js';

/** What to look at. */
export interface CollectScope {
  /** Namespaces to look in; undefined: all namespaces (one list per kind). */
  namespaces?: readonly string[] | undefined;
  /** Kinds to list (anchors are Jobs: JOBS is always listed). */
  kinds: readonly Resource[];
  /** Only objects of these manifest documents (label kubestep.dev/template), and their anchors. */
  templates?: ReadonlySet<string> | undefined;
  /** Never touch this run (the caller's own). */
  exceptRunId?: string | undefined;
}

/** The part of the world a collection uses. */
export type CollectDeps = Pick<World, 'client' | 'now'> & {
  out: Pick<Output, 'info' | 'warn' | 'debug'>;
};

/** What a collection did, with counts by reason. */
export interface CollectReport {
  decisions: Decision<Resource>[];
  /** What was deleted (with dryRun: would be). */
  done: Decision<Resource>[];
  /** Deleted (or, with dryRun, to be deleted), by reason. */
  deleted: Record<string, number>;
  kept: Record<string, number>;
  /** Changed since the list (gone, replaced, or its run came back to life): left alone. */
  changed: number;
  /** Deletions that failed: message per object. */
  failures: string[];
  /** Kinds (and namespaces) the credentials may not list: not collected. */
  forbidden: string[];
}

/**
 * Lists kubestep's objects in `scope`, decides with `rules` ({@link planCollection}), and deletes
 * what is garbage (unless `dryRun`): each object confirmed first by a fresh GET of it and of its
 * run's anchor (the verdict must still be delete, with the same uid), then deleted with a uid
 * precondition and propagationPolicy Background, without waiting for it to go. Keeps going past
 * failures (collected in `failures`); a failing list throws.
 */
export async function collectGarbage(
  deps: CollectDeps,
  scope: CollectScope,
  rules: GcRules,
  opts: { dryRun: boolean },
  signal: AbortSignal,
): Promise<CollectReport> {
  const forbidden: string[] = [];
  const found = await listManaged(deps.client, scope, forbidden, signal);
  const now = deps.now();
  const byNamespace = new Map<string, { res: Resource; object: KubeObject }[]>();
  for (const f of found) {
    const ns = f.object.metadata?.namespace ?? '';
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), f]);
  }
  const decisions = [...byNamespace].flatMap(([ns, objects]) =>
    planCollection(ns, objects, now, rules),
  );
  const report: CollectReport = {
    decisions,
    done: [],
    deleted: {},
    kept: countByReason(decisions).keep,
    changed: 0,
    failures: [],
    forbidden,
  };
  const doomed = decisions.filter((d) => d.verdict.delete);
  if (opts.dryRun) {
    report.deleted = countByReason(doomed).delete;
    report.done = doomed;
    return report;
  }
  const states = new Map<string, Promise<RunState>>();
  const freshState = (d: Decision<Resource>) => {
    const key = `${d.namespace}/${d.runId}`;
    let s = states.get(key);
    if (!s) {
      s = deps.client
        .get<Job>(JOBS, d.namespace, anchorName(d.runId), signal)
        .then((a) => runStateOf(a && isAnchor(a) ? a : undefined, deps.now(), rules.maxAgeMs));
      states.set(key, s);
    }
    return s;
  };
  for (const d of doomed) {
    const name = d.object.metadata?.name ?? '';
    const what = `${d.res.kind}/${name} in ${d.namespace}`;
    try {
      const fresh = await deps.client.get<KubeObject>(d.res, d.namespace, name, signal);
      const verdict =
        fresh && fresh.metadata?.uid === d.object.metadata?.uid
          ? gcVerdict(fresh, await freshState(d), deps.now(), rules)
          : undefined;
      if (!verdict?.delete) {
        report.changed++;
        deps.out.debug(`${what} changed since it was listed: left alone`);
        continue;
      }
      await deps.client.delete(
        d.res,
        d.namespace,
        name,
        { propagationPolicy: 'Background', uid: d.object.metadata?.uid },
        signal,
      );
      report.deleted[verdict.reason] = (report.deleted[verdict.reason] ?? 0) + 1;
      report.done.push({ ...d, verdict });
    } catch (err) {
      if (signal.aborted) throw err;
      report.failures.push(`${what}: ${messageOf(err)}`);
    }
  }
  return report;
}

/**
 * kubestep's objects in `scope`: test Jobs, anchors and dependencies, without the pods that a
 * Job, ReplicaSet or StatefulSet owns (they go with their owner) and without run
 * `scope.exceptRunId`. With `scope.templates`, only objects of those documents and the anchors
 * of their runs. Kinds other than Jobs that the credentials may not list are skipped and named
 * in `forbidden`.
 */
async function listManaged(
  client: KubeApi,
  scope: CollectScope,
  forbidden: string[],
  signal: AbortSignal,
): Promise<{ res: Resource; object: KubeObject }[]> {
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const templates = scope.templates;
  const selector = templates
    ? `${managed},${LABEL_TEMPLATE} in (${[...templates].sort().join(',')})`
    : managed;
  // Jobs: one list of all kubestep's Jobs, the test Jobs of these documents and every anchor
  // picked from it (a label selector cannot say "this template or an anchor").
  const ofScope = (o: KubeObject) =>
    !templates || isAnchor(o) || templates.has(o.metadata?.labels?.[LABEL_TEMPLATE] ?? '');
  const kinds = [...new Set([JOBS, ...scope.kinds])];
  const places = scope.namespaces ? [...new Set(scope.namespaces)] : [undefined];
  const lists = await Promise.all(
    places.flatMap((ns) =>
      kinds.map(async (res) => {
        const list =
          res === JOBS
            ? await client.list<KubeObject>(res, ns, { labelSelector: managed }, signal)
            : await listIfAllowed<KubeObject>(client, res, ns, { labelSelector: selector }, signal);
        if (!list) {
          forbidden.push(`${res.plural}${ns ? ` in ${ns}` : ''}`);
          return [];
        }
        return withKind(list, res).filter((f) => res !== JOBS || ofScope(f.object));
      }),
    ),
  );
  const all = lists.flat().filter(({ res, object }) => {
    const runId = object.metadata?.labels?.[LABEL_RUN_ID];
    if (scope.exceptRunId && runId === scope.exceptRunId) return false;
    return res !== PODS || !object.metadata?.ownerReferences?.some((r) => r.controller);
  });
  if (!scope.templates) return all;
  // Anchors only of runs that have an object of these documents here.
  const runs = new Set(all.filter((f) => !isAnchor(f.object)).map((f) => runKey(f.object)));
  return all.filter((f) => !isAnchor(f.object) || runs.has(runKey(f.object)));
}

const runKey = (o: KubeObject) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.labels?.[LABEL_RUN_ID] ?? ''}`;

/** The items of a list with their `kind` (the decisions need it; list items carry none). */
function withKind(
  list: ObjectList<KubeObject>,
  res: Resource,
): { res: Resource; object: KubeObject }[] {
  const kind = list.kind?.replace(/List$/, '');
  return list.items.map((object) => ({ res, object: { ...object, kind: object.kind ?? kind } }));
}

/** `3 (run killed: 2, Job finished: 1)`, for gc's and the sweep's last line. */
export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  const total = entries.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return '0';
  return `${total} (${entries.map(([r, c]) => `${r}: ${c}`).join(', ')})`;
}
