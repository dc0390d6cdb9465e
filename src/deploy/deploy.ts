// `kubestep deploy`: server-side apply of the manifests, then waiting for every workload's
// rollout, failing as soon as the new revision's pods show it will not succeed. Imperative shell
// over judge.ts (the verdicts) and kube/ (apply, discovery).
import { text } from 'node:stream/consumers';
import { sleep } from '../core/abort.js';
import { InfraError, InputError, messageOf } from '../core/errors.js';
import { formatDuration } from '../core/format.js';
import type { JobSummary, Outcome } from '../core/outcome.js';
import { mayDo } from '../kube/can-i.js';
import { Discovery, type ServedKind } from '../kube/discovery.js';
import { isTypedPatchError, KubeApiError } from '../kube/errors.js';
import { CONTROLLERREVISIONS, PODS, REPLICASETS } from '../kube/resources.js';
import { podSelectorOf } from '../kube/selectors.js';
import { runInformer } from '../kube/informer.js';
import type { KubeObject, Pod } from '../kube/types.js';
import type { World } from '../kube/world.js';
import type { ManifestObject } from '../manifests/objects.js';
import { printEvents } from '../objects/events.js';
import { RolloutJudge, type RolloutLimits, type RolloutVerdict } from './judge.js';
import { withPortProtocols } from './defaults.js';
import { diffObjects, type ObjectDiff } from './diff.js';
import { changeOf, imagesOf, rollbackObject, type WorkloadChange } from './rollback.js';
import { followJobs, replaceStaleJob } from './jobs.js';
import { isWorkload, PHASES, phaseOf, phaseProblem } from './phases.js';

/** kubestep's field manager: the owner of every field it applies. */
export const FIELD_MANAGER = 'kubestep';

/** One object to apply, and where it was written (for messages). */
export type DeployObject = ManifestObject;

/** What `deploy` does. */
export interface DeployPlan {
  objects: readonly DeployObject[];
  /** --force-conflicts: take the fields another field manager owns. */
  force: boolean;
  limits: RolloutLimits;
  /** --rollout-timeout, ms: from the first apply to the last rollout's end (and again for a rollback). */
  timeoutMs: number;
  /** --rollback-on-failure: put back the pod templates of the workloads this deploy changed. */
  rollback: boolean;
  /** --diff: print what would change, apply nothing. */
  diff?: ((changes: readonly ObjectDiff[]) => void) | undefined;
}

const label = (o: KubeObject) => `${(o.kind ?? '').toLowerCase()}/${o.metadata?.name ?? ''}`;

type Item = DeployObject & { served: ServedKind };

/**
 * Applies `plan.objects` in phases (phases.ts: config, jobs, workloads, rest; each finished
 * before the next begins): Jobs are followed until Complete (a finished Job of the same name is
 * replaced), Deployments, StatefulSets and DaemonSets until rolled out. Before anything is
 * applied, every object's kind is found through discovery and the whole set is applied as a
 * server-side dry run: an unknown kind, a bad phase annotation or an invalid object is an
 * InputError (exit 2), a conflict with another field manager or a refusal an InfraError (exit 3),
 * all named at once. Returns `succeeded` when every Job and rollout is done (or, with
 * `plan.diff`, once the differences are given to it, nothing applied), `failed` when a Job
 * failed (JobFailed) or the new version is broken (RolloutFailed), `infra-error` when pods cannot
 * start, `timed-out` when `plan.timeoutMs` passed; later phases are then not applied, and with
 * `plan.rollback` the changed workloads are put back first. The signal's reason (a
 * cancellation) is thrown.
 */
export async function deploy(
  world: World,
  plan: DeployPlan,
  signal: AbortSignal,
): Promise<Outcome> {
  const badPhase = plan.objects.flatMap((d) => {
    const p = phaseProblem(d.object);
    return p ? [`${d.origin}: ${label(d.object)}: ${p}`] : [];
  });
  if (badPhase.length > 0) throw new InputError(badPhase.join('\n'));
  // Ports without a protocol: the API's default, which server-side apply before 1.21 needs.
  const objects = plan.objects.map((d) => ({ ...d, object: withPortProtocols(d.object) }));
  const items = await served(world, objects, signal);
  // Everything or nothing: the server-side dry run of every object first.
  const refused: { item: DeployObject; err: unknown }[] = [];
  const wouldBe: KubeObject[] = [];
  for (const item of items) {
    await dryRun(world, item, plan.force, signal).then(
      (o) => void wouldBe.push(o),
      (err: unknown) => {
        if (signal.aborted) throw err;
        refused.push({ item, err });
      },
    );
  }
  if (refused.length > 0) throw refusal(refused);
  if (plan.diff) {
    const changes = await diffAll(world, items, wouldBe, signal);
    plan.diff(changes);
    const n = changes.filter((c) => c.diff !== undefined).length;
    const message =
      n === 0
        ? 'no changes: the cluster already holds these objects'
        : `${n} of ${items.length} objects would change; nothing was applied`;
    return { kind: 'succeeded', reason: 'Complete', jobs: [], message };
  }
  await checkWatchRights(world, items, signal);
  const workloads: Workload[] = [];
  const deadline = AbortSignal.timeout(plan.timeoutMs);
  const outcome = await timed(plan.timeoutMs, deadline, signal, async (s) => {
    const jobs: JobSummary[] = [];
    for (const phase of PHASES) {
      const inPhase = items.filter((i) => phaseOf(i.object) === phase);
      const applied = await applyPhase(world, inPhase, plan.force, s);
      const rollouts = applied.filter((w) => isWorkload(w.object));
      workloads.push(...rollouts);
      const phaseJobs = applied.filter((w) => w.object.kind === 'Job').map((w) => w.object);
      if (phaseJobs.length > 0) {
        const o = await followJobs(world, phaseJobs, plan.limits.graces, s);
        jobs.push(...o.jobs);
        if (o.kind !== 'succeeded') return { ...o, jobs };
      }
      if (rollouts.length > 0) {
        const o = await waitForRollouts(world, rollouts, plan.limits, s);
        if (o.kind !== 'succeeded') return { ...o, jobs };
      }
    }
    return { kind: 'succeeded', reason: 'Complete', jobs, message: doneMessage(workloads, jobs) };
  });
  if (
    !plan.rollback ||
    (outcome.kind !== 'failed' && outcome.kind !== 'infra-error' && outcome.kind !== 'timed-out')
  )
    return outcome;
  return { ...outcome, message: await rollBack(world, workloads, plan, outcome.message, signal) };
}

/** `the rollout is done`, `2 Jobs complete, all 3 rollouts are done`, `applied`. */
function doneMessage(workloads: readonly Workload[], jobs: readonly JobSummary[]): string {
  const n = workloads.length;
  const parts = [
    ...(jobs.length > 0
      ? [`${jobs.length === 1 ? 'the Job is' : `${jobs.length} Jobs are`} complete`]
      : []),
    ...(n > 0 ? [n === 1 ? 'the rollout is done' : `all ${n} rollouts are done`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : 'applied';
}

/**
 * Applies one phase's objects in their order (a finished Job of the same name replaced first),
 * each workload read before, to know what changed.
 */
async function applyPhase(
  world: World,
  items: readonly Item[],
  force: boolean,
  signal: AbortSignal,
): Promise<Workload[]> {
  const applied: Workload[] = [];
  for (const item of items) {
    const ns = item.object.metadata?.namespace ?? '';
    const name = item.object.metadata?.name ?? '';
    if (item.object.kind === 'Job') await replaceStaleJob(world, ns, name, signal);
    const before = isWorkload(item.object)
      ? await world.client.get<KubeObject>(item.served.res, ns, name, signal)
      : undefined;
    const object = await applyOne(world, item, force, false, signal);
    world.out.info(`applied ${label(item.object)} in namespace ${ns}`);
    if (force) await takeOverFromKubectl(world, item, object, signal);
    applied.push({ item, object, change: changeOf(before, object) });
  }
  return applied;
}

/** The annotation in which client-side `kubectl apply` keeps what it applied. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** The field managers of client-side `kubectl apply` (and of objects made before managedFields). */
const KUBECTL_MANAGERS = new Set(['kubectl-client-side-apply', 'before-first-apply']);

/**
 * After a forced apply of an object that client-side `kubectl apply` managed: removes its
 * last-applied annotation and kubectl's entries in managedFields (one merge patch), so that the
 * next deploy is not a conflict with "kubectl-client-side-apply" again: the API server derives
 * that manager's fields from the annotation on every apply. What Flux does when it takes objects
 * over. Source: https://kubernetes.io/docs/reference/using-api/server-side-apply/#upgrading-from-client-side-apply-to-server-side-apply
 */
async function takeOverFromKubectl(
  { client, out }: World,
  item: Item,
  applied: KubeObject,
  signal: AbortSignal,
): Promise<void> {
  const fields = applied.metadata?.managedFields ?? [];
  const keep = fields.filter((m) => !KUBECTL_MANAGERS.has(m.manager ?? ''));
  const annotated = LAST_APPLIED in (applied.metadata?.annotations ?? {});
  if (!annotated && keep.length === fields.length) return;
  await client.patch(
    item.served.res,
    applied.metadata?.namespace ?? '',
    applied.metadata?.name ?? '',
    {
      metadata: {
        ...(annotated ? { annotations: { [LAST_APPLIED]: null } } : {}),
        managedFields: keep,
      },
    },
    signal,
  );
  out.info(
    `${label(applied)}: taken over from client-side kubectl apply (its ${LAST_APPLIED} annotation and field ownership removed)`,
  );
}

/** A workload this deploy applied. */
interface Workload {
  item: Item;
  /** As the apply returned it. */
  object: KubeObject;
  change: WorkloadChange;
}

/** Every object with the resource that serves its kind; InputError naming the ones not served. */
async function served(
  { client }: World,
  objects: readonly DeployObject[],
  signal: AbortSignal,
): Promise<Item[]> {
  const discovery = new Discovery(client);
  const kinds = await Promise.all(
    objects.map((d) => discovery.kind(d.object.apiVersion ?? '', d.object.kind ?? '', signal)),
  );
  const unknown = objects.flatMap((d, i) =>
    kinds[i]
      ? kinds[i].namespaced
        ? []
        : [
            `${d.origin}: ${label(d.object)} is cluster-scoped: deploy applies namespaced objects only`,
          ]
      : [`${d.origin}: the cluster does not serve ${d.object.kind} of ${d.object.apiVersion}`],
  );
  if (unknown.length > 0) throw new InputError(unknown.join('\n'));
  return objects.map((d, i) => ({ ...d, served: kinds[i]! }));
}

/**
 * The server-side dry run of one object. A Job is dry-run as a new object (`generateName`): it
 * replaces a finished Job of its name, whose pod template could not be applied over.
 */
async function dryRun(
  world: World,
  item: Item,
  force: boolean,
  signal: AbortSignal,
): Promise<KubeObject> {
  if (item.object.kind !== 'Job') return applyOne(world, item, force, true, signal);
  const { name, ...metadata } = item.object.metadata ?? {};
  const body = {
    ...item.object,
    metadata: { ...metadata, generateName: (name ?? '').slice(0, 58) },
  };
  return world.client.create(item.served.res, metadata.namespace, body, signal, { dryRun: true });
}

/**
 * `body` under the deadline `deadline` (of `ms`): its outcome, or `timed-out` when the deadline
 * passed first (the caller's own cancellation is thrown).
 */
async function timed(
  ms: number,
  deadline: AbortSignal,
  signal: AbortSignal,
  body: (signal: AbortSignal) => Promise<Outcome>,
): Promise<Outcome> {
  return body(AbortSignal.any([signal, deadline])).catch((err: unknown): Outcome => {
    if (!deadline.aborted || signal.aborted) throw err;
    const message = `--rollout-timeout of ${formatDuration(ms)} passed before the rollouts were done`;
    return { kind: 'timed-out', reason: 'Timeout', jobs: [], message };
  });
}

/**
 * --rollback-on-failure: applies the previous pod template of every workload whose template this
 * deploy changed, waits for those rollouts (again within --rollout-timeout), and returns the
 * failure's message with what was restored and what was left (workloads created by this deploy
 * stay). A rollback that fails is said, and does not change the exit code.
 */
async function rollBack(
  world: World,
  workloads: readonly Workload[],
  plan: DeployPlan,
  base: string,
  signal: AbortSignal,
): Promise<string> {
  const { out } = world;
  const changed = workloads.flatMap((w) =>
    w.change.kind === 'changed' ? [{ ...w, before: w.change.before }] : [],
  );
  const created = workloads.filter((w) => w.change.kind === 'created').map((w) => label(w.object));
  const left =
    created.length > 0 ? `; left in place (created by this deploy): ${created.join(', ')}` : '';
  if (changed.length === 0) return `${base}; nothing to roll back${left}`;
  const restored: Workload[] = [];
  for (const w of changed) {
    out.info(
      `rolling back ${label(w.object)} to its previous pod template (${imagesOf(w.before)})`,
    );
    const object = await applyOne(
      world,
      { ...w.item, object: rollbackObject(w.item.object, w.before) },
      true,
      false,
      signal,
    );
    restored.push({ ...w, object });
  }
  const names = restored.map((w) => label(w.object)).join(', ');
  const outcome = await timed(plan.timeoutMs, AbortSignal.timeout(plan.timeoutMs), signal, (s) =>
    waitForRollouts(world, restored, plan.limits, s, false),
  );
  if (outcome.kind === 'succeeded') {
    out.info(`rolled back ${names}: the previous version runs again`);
    return `${base}; rolled back ${names}${left}`;
  }
  const why = 'message' in outcome ? outcome.message : outcome.kind;
  out.warn(`the rollback of ${names} did not finish: ${why}`);
  return `${base}; the rollback of ${names} did not finish (${why})${left}`;
}

/** Each object's difference between the cluster and `wouldBe` (its dry run), in order. */
async function diffAll(
  { client }: World,
  items: readonly Item[],
  wouldBe: readonly KubeObject[],
  signal: AbortSignal,
): Promise<ObjectDiff[]> {
  return Promise.all(
    items.map(async (item, i) => {
      const ns = item.object.metadata?.namespace ?? '';
      const live = await client.get<KubeObject>(
        item.served.res,
        ns,
        item.object.metadata?.name ?? '',
        signal,
      );
      // A Job's dry run was a create with generateName: it stands for the Job of this name.
      const next = wouldBe[i]!;
      const metadata = { ...next.metadata, name: item.object.metadata?.name };
      delete metadata.generateName;
      const named = { ...next, metadata };
      return diffObjects(`${label(item.object)} in namespace ${ns}`, live, named);
    }),
  );
}

/**
 * What following the Jobs and waiting for the rollouts needs (pods and their logs, a
 * Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions, events; for Jobs
 * also watching and deleting Jobs, to replace a finished one), checked before anything is
 * applied: InfraError naming what is missing. Source: deploy/rbac.yaml, deploy/rbac-optional.yaml.
 */
async function checkWatchRights(
  { client }: World,
  items: readonly DeployObject[],
  signal: AbortSignal,
): Promise<void> {
  type Need = {
    namespace: string;
    verb: string;
    resource: string;
    group: string;
    subresource?: string;
  };
  const needs = new Map<string, Need>();
  const need = (n: Need) =>
    needs.set(`${n.namespace}/${n.verb}/${n.resource}/${n.subresource ?? ''}`, n);
  for (const { object: o } of items) {
    const namespace = o.metadata?.namespace ?? '';
    const isJob = o.kind === 'Job';
    if (!isJob && !isWorkload(o)) continue;
    need({ namespace, verb: 'list', resource: 'pods', group: '' });
    need({ namespace, verb: 'list', resource: 'events', group: '' });
    need({ namespace, verb: 'get', resource: 'pods', group: '', subresource: 'log' });
    if (isJob) {
      need({ namespace, verb: 'watch', resource: 'jobs', group: 'batch' });
      need({ namespace, verb: 'watch', resource: 'pods', group: '' });
      need({ namespace, verb: 'delete', resource: 'jobs', group: 'batch' });
    } else {
      const owned = o.kind === 'Deployment' ? 'replicasets' : 'controllerrevisions';
      need({ namespace, verb: 'list', resource: owned, group: 'apps' });
    }
  }
  const checks = [...needs.values()];
  // An API server that cannot answer: the apply itself says what is refused.
  const answers = await mayDo(client, checks, signal).catch((err: unknown) => {
    if (signal.aborted) throw err;
    return checks.map(() => true);
  });
  const missing = checks.filter((_, i) => !answers[i]);
  if (missing.length > 0)
    throw new InfraError(
      `nothing was applied: following the Jobs and rollouts needs ${missing.map((m) => `${m.verb} ${m.resource}${m.subresource ? `/${m.subresource}` : ''}${m.group ? `.${m.group}` : ''} in namespace ${m.namespace}`).join(', ')}: grant it (deploy/rbac.yaml, deploy/rbac-optional.yaml)`,
    );
}

async function applyOne(
  { client }: World,
  item: DeployObject & { served: ServedKind },
  force: boolean,
  dryRun: boolean,
  signal: AbortSignal,
): Promise<KubeObject> {
  const o = item.object;
  return client.apply(
    item.served.res,
    o.metadata?.namespace,
    o.metadata?.name ?? '',
    o,
    { manager: FIELD_MANAGER, force, dryRun },
    signal,
  );
}

/** The error for objects the dry run refused: InputError when each is invalid, else InfraError. */
function refusal(refused: readonly { item: DeployObject; err: unknown }[]): Error {
  const lines = refused.map(({ item, err }) => {
    const conflict = err instanceof KubeApiError && err.code === 409;
    const what = `${item.origin}: ${label(item.object)}: ${messageOf(err)}`;
    if (err instanceof KubeApiError && err.code === 403)
      return `${what.trimEnd()}\n  (these credentials may not apply ${item.object.kind} objects in namespace ${item.object.metadata?.namespace}: server-side apply needs patch, and create for a new object; deploy/rbac-deploy.yaml grants them)`;
    if (!conflict) return what;
    // Objects last changed by `kubectl apply` (client-side): kubectl converts them when it moves
    // to server-side apply itself, for any other field manager they are a conflict.
    return /conflicts? with "(kubectl-client-side-apply|before-first-apply)"/.test(what)
      ? `${what}\n  (these fields were set by client-side \`kubectl apply\`: give --force-conflicts once, on the first kubestep deploy of this object, to take them over; later deploys need it no more)`
      : `${what}\n  (another field manager owns these fields: give --force-conflicts to take them, or change them where they are managed)`;
  });
  const invalid = refused.every(
    ({ err }) =>
      isTypedPatchError(err) ||
      (err instanceof KubeApiError && (err.code === 422 || err.code === 400)),
  );
  const text = `nothing was applied: the server refused ${refused.length} of the objects in a dry run:\n${lines.join('\n')}`;
  return invalid ? new InputError(text) : new InfraError(text);
}

/** How often the rollouts are looked at, ms. */
const POLL_MS = 1_000;

/**
 * Judges every workload once a second until all are rolled out or one fails; a failure is
 * explained with its pod's events and its container's last log lines.
 */
async function waitForRollouts(
  world: World,
  workloads: readonly Workload[],
  limits: RolloutLimits,
  signal: AbortSignal,
  explain = true,
): Promise<Outcome> {
  const { client, out } = world;
  const judges = workloads.map(() => new RolloutJudge(limits));
  const said = new Map<number, string>();
  const changes = new Changes(signal);
  const watching = new AbortController();
  const watchSignal = AbortSignal.any([signal, watching.signal]);
  // A change of a workload's status is judged at once (kubectl rollout status watches too); the
  // 1 s tick covers the pods' graces, and a watch that may not be opened.
  for (const w of workloads)
    void runInformer<KubeObject>(
      client,
      w.item.served.res,
      w.object.metadata?.namespace ?? '',
      { fieldSelector: `metadata.name=${w.object.metadata?.name ?? ''}` },
      {
        onList: () => changes.note(),
        onEvent: () => changes.note(),
        onReconnect: (why) => out.debug(why),
      },
      watchSignal,
    ).catch((err: unknown) => {
      if (!watchSignal.aborted) out.debug(`watching ${label(w.object)}: ${messageOf(err)}`);
    });
  try {
    return await judgeUntilDone(world, workloads, judges, said, changes, explain, signal);
  } finally {
    watching.abort();
  }
}

/** A wake-up call for the judging loop: resolves at the next change, or after `ms`. */
class Changes {
  private wake: (() => void) | undefined;
  private pending = false;

  constructor(private readonly signal: AbortSignal) {}

  note(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Waits for a change noted since the last call, at most `ms`; the signal's reason is thrown. */
  async next(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    const changed = new Promise<void>((resolve) => (this.wake = resolve));
    await Promise.race([sleep(ms, this.signal), changed]);
    this.wake = undefined;
    this.pending = false;
  }
}

async function judgeUntilDone(
  world: World,
  workloads: readonly Workload[],
  judges: readonly RolloutJudge[],
  said: Map<number, string>,
  changes: Changes,
  explain: boolean,
  signal: AbortSignal,
): Promise<Outcome> {
  const { client, out, now } = world;
  for (;;) {
    const verdicts = await Promise.all(
      workloads.map(async (w, i): Promise<RolloutVerdict> => {
        const ns = w.object.metadata?.namespace ?? '';
        const current = await client.get<KubeObject>(
          w.item.served.res,
          ns,
          w.object.metadata?.name ?? '',
          signal,
        );
        if (!current)
          return {
            kind: 'broken',
            reason: 'Deleted',
            message: `${label(w.object)} was deleted`,
          };
        // matchExpressions: every pod of the namespace (the revision label picks the right ones).
        const list = { labelSelector: podSelectorOf(current) ?? '' };
        const ownedRes = current.kind === 'Deployment' ? REPLICASETS : CONTROLLERREVISIONS;
        const [owned, pods] = await Promise.all([
          client.list<KubeObject>(ownedRes, ns, list, signal),
          client.list<Pod>(PODS, ns, list, signal),
        ]);
        return judges[i]!.judge(current, owned.items, pods.items, now());
      }),
    );
    verdicts.forEach((v, i) => {
      const name = label(workloads[i]!.object);
      if ((v.kind === 'waiting' || v.kind === 'done') && said.get(i) !== v.message)
        out.info(`${name}: ${v.message}`);
      said.set(i, v.message);
    });
    for (const [i, v] of verdicts.entries())
      if (v.kind === 'broken' || v.kind === 'stuck')
        return explain
          ? explainFailure(world, workloads[i]!.object, v, signal)
          : failureOutcome(workloads[i]!.object, v);
    if (verdicts.every((v) => v.kind === 'done')) {
      const n = workloads.length;
      return {
        kind: 'succeeded',
        reason: 'Complete',
        jobs: [],
        message:
          n === 0 ? 'applied' : `${n === 1 ? 'the rollout is' : `all ${n} rollouts are`} done`,
      };
    }
    out.status(verdicts.map((v, i) => `${label(workloads[i]!.object)}: ${v.message}`).join('; '));
    await changes.next(POLL_MS);
  }
}

/** Says why the rollout failed, with the pod's events and its container's last 20 log lines. */
async function explainFailure(
  world: World,
  workload: KubeObject,
  v: Extract<RolloutVerdict, { kind: 'broken' | 'stuck' }>,
  signal: AbortSignal,
): Promise<Outcome> {
  const { client, out } = world;
  const ns = workload.metadata?.namespace ?? '';
  out.error(
    `rollout of ${label(workload)} ${v.kind === 'stuck' ? 'cannot start' : 'failed'}`,
    `${v.reason}: ${v.message}`,
  );
  const pod = v.pod ? await client.get<Pod>(PODS, ns, v.pod, signal) : undefined;
  await printEvents(
    world,
    [
      ...(pod ? [{ label: `pod/${v.pod}`, object: pod }] : []),
      { label: label(workload), object: workload },
    ],
    signal,
  );
  if (pod && v.container) {
    // A crash loop's last words are in the previous instance of the container.
    const previous = v.reason === 'CrashLoopBackOff' || v.reason === 'Restarts';
    const lines = await lastLines(world, ns, v.pod!, v.container, previous, signal);
    if (lines.length > 0) {
      out.info(
        `last log lines of pod/${v.pod} container ${v.container}${previous ? ' (previous instance)' : ''}:`,
      );
      // Pod output is untrusted: through the log sink, which neutralises it.
      await out.logs.write({ namespace: ns, pod: v.pod!, container: v.container }, lines);
    }
  }
  return failureOutcome(workload, v);
}

/** The outcome of a failed rollout: exit 3 when its pods cannot start, else exit 1. */
function failureOutcome(
  workload: KubeObject,
  v: Extract<RolloutVerdict, { kind: 'broken' | 'stuck' }>,
): Outcome {
  const message = `${label(workload)}: ${v.message}`;
  return v.kind === 'stuck'
    ? { kind: 'infra-error', reason: 'PodCannotStart', jobs: [], message }
    : { kind: 'failed', reason: 'RolloutFailed', jobs: [], message };
}

/** The last 20 lines of a container's log (empty when there is none). */
async function lastLines(
  { client }: World,
  ns: string,
  pod: string,
  container: string,
  previous: boolean,
  signal: AbortSignal,
): Promise<string[]> {
  try {
    const stream = await client.logs(
      ns,
      pod,
      container,
      { follow: false, timestamps: false, tailLines: 20, limitBytes: 64 * 1024, previous },
      signal,
    );
    return (await text(stream)).split('\n').filter((l) => l.length > 0);
  } catch {
    return [];
  }
}
