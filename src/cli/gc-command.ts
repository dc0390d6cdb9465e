// `kubestep gc`: flags in, outcome out. The rules are in gc/rules.ts, the work in gc/collect.ts.
import { InfraError } from '../core/errors.js';
import { DONE, type Outcome } from '../core/outcome.js';
import { collectGarbage, formatCounts } from '../gc/collect.js';
import { MANAGED_KINDS, NAMESPACES } from '../kube/resources.js';
import { GC_OPT_IN, LABEL_GC } from '../manifests/jobs.js';
import { resolveClusterAccess } from '../kube/config.js';
import { connect, plural, type ClusterOptions, type Io } from './run-command.js';

/** Typed options of `kubestep gc`. */
export interface GcOptions extends ClusterOptions {
  /** Objects of runs that are over are deleted once older than this, ms. */
  olderThanMs: number;
  /** Test Jobs that have not finished are deleted once older than this, ms. */
  maxAgeMs: number;
  allNamespaces: boolean;
  dryRun: boolean;
}

/**
 * Runs `kubestep gc`: deletes the objects of runs that are over (see gc/rules.ts) in the
 * namespace (or, with `allNamespaces`, in every namespace labelled `kubestep.dev/gc=enabled`), printing each and the counts per reason. Returns `succeeded`; throws
 * InfraError (exit 3) after trying every object when some deletions failed, and when listing
 * fails.
 */
export async function gcCommand(opts: GcOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  const access = await resolveClusterAccess(opts, io.env, signal);
  const { client, out } = connect(access, opts, io, false, []);
  const optIn = `${LABEL_GC}=${GC_OPT_IN}`;
  try {
    // -A acts only where a namespace's owner has opted in with a label.
    const namespaces = opts.allNamespaces
      ? (await client.list(NAMESPACES, undefined, { labelSelector: optIn }, signal)).items
          .map((n) => n.metadata?.name ?? '')
          .filter(Boolean)
      : [access.namespace];
    const where = opts.allNamespaces
      ? `the ${plural(namespaces.length, 'namespace')} labelled ${optIn}`
      : `namespace ${access.namespace}`;
    if (namespaces.length === 0) {
      out.info(
        `gc --all-namespaces: no namespace is labelled ${optIn}, nothing to do (label those gc -A may clean: kubectl label namespace NAME ${optIn})`,
      );
      return DONE;
    }
    const report = await collectGarbage(
      { client, out, now: Date.now },
      { namespaces, kinds: MANAGED_KINDS },
      { olderThanMs: opts.olderThanMs, maxAgeMs: opts.maxAgeMs },
      { dryRun: opts.dryRun },
      signal,
    );
    const verb = opts.dryRun ? 'would delete' : 'deleted';
    for (const d of report.done) {
      const ns = opts.allNamespaces ? ` in ${d.namespace}` : '';
      out.info(
        `${verb} ${d.res.kind}/${d.object.metadata?.name ?? ''}${ns} (run ${d.runId}: ${d.verdict.reason})`,
      );
    }
    for (const f of report.failures) out.warn(`could not delete ${f}`);
    if (report.forbidden.length > 0) {
      out.warn(
        `may not list ${report.forbidden.join(', ')}: not collected (the optional Role of deploy/rbac-optional.yaml grants it for Secrets)`,
      );
    }
    const runs = new Set(report.decisions.map((d) => `${d.namespace}/${d.runId}`)).size;
    out.info(
      `gc in ${where}: ${plural(report.decisions.length, 'object')} of ${plural(runs, 'run')}; ${verb} ${formatCounts(report.deleted)}; kept ${formatCounts(report.kept)}` +
        (report.changed ? `; ${report.changed} changed meanwhile (left alone)` : ''),
    );
    if (opts.dryRun) out.info('--dry-run: nothing was deleted');
    if (report.failures.length > 0) {
      throw new InfraError(
        `${plural(report.failures.length, 'deletion')} failed (listed above): check kubestep's permissions (delete) in ${where} and run gc again`,
      );
    }
    return DONE;
  } finally {
    out.close();
    await client.close().catch(() => undefined);
  }
}
