// Before anything is created: stale objects of the same names, and a server-side dry-run of every
// manifest. Imperative shell over KubeApi.
import { InfraError, InputError } from '../core/errors.js';
import { isStatus, KubeApiError } from '../kube/errors.js';
import { JOBS, type Resource } from '../kube/resources.js';
import type { Job, KubeObject } from '../kube/types.js';
import { anchorName } from '../manifests/deps.js';
import { heldMessage, otherHolder } from './holder.js';
import { LABEL_RUN_ID } from '../manifests/jobs.js';
import { droppedFields, droppedHint } from '../manifests/dropped.js';
import { describeOrigin, type DocumentOrigin } from '../manifests/parse.js';
import { isJobFinished, jobState } from '../jobs/status.js';
import { refName, refOf, type ObjectRef } from '../objects/ledger.js';
import { deleteObjects, type DeleteDeps } from './teardown.js';

/** An object a run is about to create. */
export interface PlannedObject {
  origin: DocumentOrigin;
  res: Resource;
  namespace: string;
  name: string;
  object: KubeObject;
}

/** Options of {@link preflight}. */
export interface PreflightOptions {
  runId: string;
  /** Replace objects of the same name that belong to another run (or to no run). */
  replace: boolean;
  /** How long deleting stale objects may take, ms. */
  graceMs: number;
  /** This process as the holder of the run (see run/holder.ts). */
  holder?: string | undefined;
  /** Fields the API server drops are a warning, not an error (--allow-dropped-fields). */
  allowDroppedFields?: boolean;
  /** --dry-run: say what would be replaced, delete nothing. */
  dryRun?: boolean;
}

/**
 * Makes room for `planned` and checks it: dry-runs every create on the API server, reads the
 * objects that already have their names (the dry run's 409s), then deletes the stale ones and
 * waits until they are gone.
 * Stale, and replaced: a finished Job, anything labelled with this same run id (an earlier
 * attempt of the same CI step) unless another live process holds that run (its anchor's holder,
 * see run/holder.ts: then InfraError, exit 3, even with `replace`), and anything being deleted
 * already (waited for). Anything else is a conflict (InfraError, exit 3, nothing changed)
 * unless `replace`. A manifest the API server rejects (400, 422) is bad input (InputError,
 * exit 2, naming file and document).
 * Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
 */
export async function preflight(
  deps: DeleteDeps,
  planned: readonly PlannedObject[],
  opts: PreflightOptions,
  signal: AbortSignal,
): Promise<void> {
  const taken = await dryRunCreate(deps, planned, opts.allowDroppedFields ?? false, signal);
  await makeRoom(deps, planned, taken, opts, signal);
}

/**
 * The second half of {@link preflight}: reads the objects whose names the dry run found taken
 * (409 AlreadyExists, after validation), and replaces the stale ones or throws for a conflict.
 * Runs after the sweep, which may have deleted some of them.
 */
export async function makeRoom(
  deps: DeleteDeps,
  planned: readonly PlannedObject[],
  taken: ReadonlySet<number>,
  opts: PreflightOptions,
  signal: AbortSignal,
): Promise<void> {
  const existing = await Promise.all(
    planned.map((p, i) =>
      taken.has(i)
        ? deps.client.get<KubeObject>(p.res, p.namespace, p.name, signal)
        : Promise.resolve(undefined),
    ),
  );
  // Objects of this run id: only when no other live process holds the run in their namespace.
  const sameRun = new Set(
    existing.flatMap((found, i) =>
      found?.metadata?.labels?.[LABEL_RUN_ID] === opts.runId ? [planned[i]!.namespace] : [],
    ),
  );
  const held = await Promise.all(
    [...sameRun].map(async (ns) => {
      const anchor = await deps.client.get<Job>(JOBS, ns, anchorName(opts.runId), signal);
      const other = otherHolder(anchor, opts.holder ?? '', deps.now());
      return other ? heldMessage(opts.runId, ns, other) : [];
    }),
  );
  if (held.flat().length > 0) throw new InfraError(held.flat().join('\n'));
  const conflicts: string[] = [];
  const stale: (ObjectRef & { note: string })[] = [];
  existing.forEach((found, i) => {
    if (!found) return;
    const p = planned[i]!;
    const otherRun = found.metadata?.labels?.[LABEL_RUN_ID];
    const owner = otherRun ? `run ${otherRun}` : 'not created by kubestep';
    const finishedJob = p.res === JOBS && isJobFinished(found);
    // Being deleted (by the sweep, or by the cleanup of the run that made it): only waited for.
    const deleting = Boolean(found.metadata?.deletionTimestamp);
    if (!finishedJob && !deleting && otherRun !== opts.runId && !opts.replace) {
      const what =
        p.res === JOBS
          ? `is still running (${owner}, created ${found.metadata?.creationTimestamp ?? '?'}): wait for it, delete it`
          : `exists already (${owner}): delete it`;
      conflicts.push(
        `${refName(p)} in namespace ${p.namespace} ${what} (kubectl delete ${p.res.kind} ${p.name} -n ${p.namespace}), pass --replace, or give this run's ${p.res.kind} another name (e.g. ${p.name}-\${RUN_ID})`,
      );
    }
    const state = p.res === JOBS ? `${jobState(found).phase}, ` : '';
    stale.push({
      ...refOf(p.res, found),
      note: `replacing ${refName(p)} (${state}${otherRun ? `run ${otherRun}` : 'not by kubestep'})`,
    });
  });
  if (conflicts.length > 0) throw new InfraError(conflicts.join('\n'));
  if (opts.dryRun) {
    for (const s of stale) deps.out.info(`would be ${s.note}`);
    return;
  }
  for (const s of stale) deps.out.info(s.note);
  await deleteObjects(deps, stale, deps.now() + opts.graceMs, signal);
}

/**
 * The first half of {@link preflight}: the server-side dry run of every create (it changes
 * nothing, so it may run beside the access review and the sweep). Schema, admission and quota
 * errors before anything exists; and the fields the server would drop (it does not know them:
 * {@link droppedFields}), bad input unless `allowDropped` (then a warning). Returns the indices of
 * `planned` whose names are taken (409 AlreadyExists: the object passed validation).
 */
export async function dryRunCreate(
  { client, out }: DeleteDeps,
  planned: readonly PlannedObject[],
  allowDropped: boolean,
  signal: AbortSignal,
): Promise<Set<number>> {
  const taken = new Set<number>();
  const problems: string[] = [];
  const refused: string[] = [];
  const dropped: string[] = [];
  let infra: Error | undefined;
  await Promise.all(
    planned.map(async (p, i) => {
      try {
        const stored = await client.create(p.res, p.namespace, p.object, signal, { dryRun: true });
        const gone = droppedFields(p.object, stored);
        const hint = droppedHint(gone);
        if (gone.length > 0)
          dropped.push(
            `${describeOrigin(p.origin)}: the API server drops ${gone.join(', ')}${hint ? ` (${hint})` : ''}`,
          );
      } catch (err) {
        if (isStatus(err, 409)) {
          taken.add(i); // exists: validation passed; the stale one is replaced
          return;
        }
        const refusal = err instanceof KubeApiError ? classifyRefusal(err) : undefined;
        const what = `${describeOrigin(p.origin)}: the API server refuses ${refName(p)} in namespace ${p.namespace}`;
        if (refusal?.kind === 'invalid') problems.push(`${what}: ${refusal.message}`);
        else if (refusal) refused.push(`${what}: ${refusal.message} (${refusal.hint})`);
        else infra ??= err instanceof Error ? err : new InfraError(String(err));
      }
    }),
  );
  if (dropped.length > 0) {
    const why =
      'this cluster does not know these fields, so the objects would run otherwise than written';
    if (!allowDropped) {
      problems.push(
        `${dropped.join('\n')}\n(${why}: remove them, run on a cluster that knows them, or pass --allow-dropped-fields to go on without them)`,
      );
    } else {
      for (const d of dropped) out.warn(`${d} (--allow-dropped-fields: going on without them)`);
    }
  }
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  if (refused.length > 0) throw new InfraError(refused.join('\n'));
  if (infra) throw infra;
  return taken;
}

/**
 * Why a dry-run create was refused: `invalid` (400/422 from validation, 413 too large, 404 no
 * such namespace: the input is wrong, exit 2), `quota` (403 exceeded quota), `admission` (a
 * webhook or policy denied it) or `forbidden` (RBAC): the cluster's rules, exit 3. Undefined for
 * other errors.
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/
 */
export function classifyRefusal(err: {
  code: number;
  message: string;
}):
  | { kind: 'invalid' | 'quota' | 'admission' | 'forbidden'; message: string; hint: string }
  | undefined {
  const message = err.message.replace(/^[^:]*: /, '');
  if (/exceeded quota|must specify limits|must specify requests/i.test(err.message)) {
    return {
      kind: 'quota',
      message,
      hint: "the namespace's ResourceQuota or LimitRange refuses it: wait for other runs to end, lower the requests, or raise the quota",
    };
  }
  if (
    /admission webhook|denied the request|violates PodSecurity|forbidden: .*polic/i.test(
      err.message,
    )
  ) {
    return {
      kind: 'admission',
      message,
      hint: "an admission policy of the cluster refuses it: change the manifest to meet the policy, or ask the cluster's admins",
    };
  }
  if (err.code === 403) {
    return {
      kind: 'forbidden',
      message,
      hint: 'kubestep needs the permissions of deploy/rbac.yaml: see README.md, Permissions',
    };
  }
  if (err.code === 400 || err.code === 422) return { kind: 'invalid', message, hint: '' };
  const missingNs = /namespaces "([^"]+)" not found/.exec(err.message);
  if (err.code === 404 && missingNs) {
    return {
      kind: 'invalid',
      message: `namespace ${missingNs[1]} does not exist: create it (kubectl create namespace ${missingNs[1]}) or pass another --namespace`,
      hint: '',
    };
  }
  if (err.code === 413) {
    return {
      kind: 'invalid',
      message: `${message}: the object is larger than the API server accepts (at most 3 MiB per request, and etcd keeps objects up to 1.5 MiB); move large data into the image or a volume`,
      hint: '',
    };
  }
  return undefined;
}
