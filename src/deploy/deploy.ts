// `kubestep deploy`: server-side apply of the manifests, then waiting for every workload's
// rollout, failing as soon as the new revision's pods show it will not succeed. Imperative shell
// over judge.ts (the verdicts) and kube/ (apply, discovery).
import { text } from 'node:stream/consumers';
import { sleep } from '../core/abort.js';
import { InfraError, InputError, messageOf } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { canI } from '../kube/can-i.js';
import { Discovery, type ServedKind } from '../kube/discovery.js';
import { KubeApiError } from '../kube/errors.js';
import { CONTROLLERREVISIONS, PODS, REPLICASETS } from '../kube/resources.js';
import { podSelectorOf } from '../kube/selectors.js';
import type { KubeObject, Pod } from '../kube/types.js';
import type { World } from '../kube/world.js';
import type { ManifestObject } from '../manifests/objects.js';
import { printEvents } from '../objects/events.js';
import { RolloutJudge, type RolloutLimits, type RolloutVerdict } from './judge.js';
import { ROLLOUT_KINDS } from './rollout.js';

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
}

/** Kinds applied first: what workloads refer to. Source: the order `helm install` uses. */
const FIRST = new Set([
  'Namespace',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'Role',
  'RoleBinding',
  'Service',
]);

/** The phase of a kind: 0 what workloads use, 1 the workloads, 2 the rest. Pure. */
export function phaseOf(kind: string | undefined): number {
  if (FIRST.has(kind ?? '')) return 0;
  return (ROLLOUT_KINDS as readonly string[]).includes(kind ?? '') ? 1 : 2;
}

const label = (o: KubeObject) => `${(o.kind ?? '').toLowerCase()}/${o.metadata?.name ?? ''}`;

/**
 * Applies `plan.objects` and waits for the rollouts of its Deployments, StatefulSets and
 * DaemonSets. Before anything is applied, every object's kind is found through discovery and the
 * whole set is applied as a server-side dry run: an unknown kind or an invalid object is an
 * InputError (exit 2), a conflict with another field manager or a refusal an InfraError (exit 3),
 * all named at once. Returns `succeeded` when every rollout is done, `failed` (RolloutFailed) when
 * the new version is broken, `infra-error` (PodCannotStart) when its pods cannot start; the
 * signal's reason (a timeout, a cancellation) is thrown.
 */
export async function deploy(
  world: World,
  plan: DeployPlan,
  signal: AbortSignal,
): Promise<Outcome> {
  const { client, out } = world;
  const discovery = new Discovery(client);
  const kinds = await Promise.all(
    plan.objects.map((d) => discovery.kind(d.object.apiVersion ?? '', d.object.kind ?? '', signal)),
  );
  const unknown = plan.objects.flatMap((d, i) =>
    kinds[i]
      ? kinds[i].namespaced
        ? []
        : [
            `${d.origin}: ${label(d.object)} is cluster-scoped: deploy applies namespaced objects only`,
          ]
      : [`${d.origin}: the cluster does not serve ${d.object.kind} of ${d.object.apiVersion}`],
  );
  if (unknown.length > 0) throw new InputError(unknown.join('\n'));
  const items = plan.objects.map((d, i) => ({ ...d, served: kinds[i]! }));
  // Everything or nothing: the server-side dry run of every object first.
  const refused: { item: DeployObject; err: unknown }[] = [];
  for (const item of items) {
    await applyOne(world, item, plan.force, true, signal).catch((err: unknown) => {
      if (signal.aborted) throw err;
      refused.push({ item, err });
    });
  }
  if (refused.length > 0) throw refusal(refused);
  await checkWatchRights(world, items, signal);
  const ordered = [...items].sort((a, b) => phaseOf(a.object.kind) - phaseOf(b.object.kind));
  const applied: KubeObject[] = [];
  for (const item of ordered) {
    applied.push(await applyOne(world, item, plan.force, false, signal));
    out.info(`applied ${label(item.object)} in namespace ${item.object.metadata?.namespace}`);
  }
  const workloads = applied
    .map((o, i) => ({ object: o, served: ordered[i]!.served }))
    .filter((w) => phaseOf(w.object.kind) === 1);
  return waitForRollouts(world, workloads, plan.limits, signal);
}

/**
 * What waiting for the rollouts reads (pods, a Deployment's ReplicaSets, a StatefulSet's or
 * DaemonSet's ControllerRevisions, events), checked before anything is applied: InfraError naming
 * what is missing. Source: deploy/rbac-optional.yaml.
 */
async function checkWatchRights(
  { client }: World,
  items: readonly DeployObject[],
  signal: AbortSignal,
): Promise<void> {
  const needs = new Map<string, { namespace: string; resource: string; group: string }>();
  for (const { object: o } of items) {
    if (phaseOf(o.kind) !== 1) continue;
    const namespace = o.metadata?.namespace ?? '';
    const owned = o.kind === 'Deployment' ? 'replicasets' : 'controllerrevisions';
    for (const [resource, group] of [
      ['pods', ''],
      [owned, 'apps'],
      ['events', ''],
    ] as const)
      needs.set(`${namespace}/${resource}`, { namespace, resource, group });
  }
  const checks = [...needs.values()];
  const answers = await Promise.all(
    checks.map((c) => canI(client, { ...c, verb: 'list' }, signal).catch(() => true)),
  );
  const missing = checks.filter((_, i) => !answers[i]);
  if (missing.length > 0)
    throw new InfraError(
      `nothing was applied: waiting for the rollouts needs ${missing.map((m) => `list ${m.resource}${m.group ? `.${m.group}` : ''} in namespace ${m.namespace}`).join(', ')}: grant it (deploy/rbac-optional.yaml)`,
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
    return conflict
      ? `${what}\n  (another field manager owns these fields: give --force-conflicts to take them, or change them where they are managed)`
      : what;
  });
  const invalid = refused.every(
    ({ err }) => err instanceof KubeApiError && (err.code === 422 || err.code === 400),
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
  workloads: readonly { object: KubeObject; served: ServedKind }[],
  limits: RolloutLimits,
  signal: AbortSignal,
): Promise<Outcome> {
  const { client, out, now } = world;
  const judges = workloads.map(() => new RolloutJudge(limits));
  const said = new Map<number, string>();
  for (;;) {
    const verdicts = await Promise.all(
      workloads.map(async (w, i): Promise<RolloutVerdict> => {
        const ns = w.object.metadata?.namespace ?? '';
        const current = await client.get<KubeObject>(
          w.served.res,
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
        return explainFailure(world, workloads[i]!.object, v, signal);
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
    await sleep(POLL_MS, signal);
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
  const message = `${label(workload)}: ${v.message}`;
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
