// `kubestep deploy`: apply manifests and wait for the rollouts. Wiring only: the work is
// deploy/deploy.ts.
import { randomBytes } from 'node:crypto';
import type { Outcome } from '../core/outcome.js';
import { deploy } from '../deploy/deploy.js';
import type { ObjectDiff } from '../deploy/diff.js';
import type { RolloutLimits } from '../deploy/judge.js';
import { resolveClusterAccess } from '../kube/config.js';
import { toManifestObjects } from '../manifests/objects.js';
import { parseManifests } from '../manifests/parse.js';
import { variableLookup } from '../manifests/substitute.js';
import { visibleControls } from '../report/ci.js';
import { redactor, secretValuesOf, type Redact } from '../report/secrets.js';
import {
  connect,
  readSources,
  reported,
  type ClusterOptions,
  type Io,
  type StuckOptions,
} from './run-command.js';

/** Typed options of `kubestep deploy`. */
export interface DeployOptions extends ClusterOptions, StuckOptions {
  files: string[];
  set: Record<string, string>;
  setSecret: Record<string, string>;
  allowEnv: string[];
  /** --force-conflicts */
  force: boolean;
  /** --rollout-timeout, ms: from the first apply to the end of the last rollout (again for a rollback). */
  timeoutMs: number;
  maxRestarts: number;
  readinessGraceMs: number;
  /** --rollback-on-failure */
  rollback: boolean;
  /** --diff: print what would change, apply nothing. */
  diff: boolean;
  /** --output json: the result file. */
  outputFile?: string | undefined;
}

/**
 * Runs `kubestep deploy`: reads and substitutes the manifests, applies them (deploy/deploy.ts)
 * and waits for the rollouts within --rollout-timeout; with --diff prints what would change
 * instead. Returns the outcome (succeeded, failed: the new version is broken, infra-error: its
 * pods cannot start, timed-out); throws InputError, InfraError or KubeApiError for what ends it
 * before (the caller maps them). The result goes to --output-file and GitHub's step summary.
 */
export async function deployCommand(
  opts: DeployOptions,
  io: Io,
  signal: AbortSignal,
): Promise<Outcome> {
  return reported(
    { outputFile: opts.outputFile, secrets: Object.values(opts.setSecret) },
    io,
    signal,
    async (report) => {
      const sources = await readSources(opts.files, io.stdin);
      const lookup = variableLookup({
        runId: randomBytes(4).toString('hex'),
        vars: { ...opts.set, ...opts.setSecret },
        env: io.env,
        allowEnv: new Set(opts.allowEnv),
      });
      const docs = parseManifests(sources, lookup);
      const access = await resolveClusterAccess(opts, io.env, signal);
      const objects = toManifestObjects(docs, access);
      // --set-secret values and the data of Secret manifests: never printed.
      const secrets = [
        ...Object.values(opts.setSecret),
        ...objects.flatMap(({ object: o }) =>
          o.kind === 'Secret' ? secretValuesOf(o as Parameters<typeof secretValuesOf>[0]) : [],
        ),
      ];
      report.redact = redactor(secrets);
      const { client, out } = connect(access, opts, io, true, secrets, report.redact);
      report.out = out;
      const limits: RolloutLimits = {
        graces: opts.graces,
        maxRestarts: opts.maxRestarts,
        readinessGraceMs: opts.readinessGraceMs,
      };
      try {
        const n = `${objects.length} ${objects.length === 1 ? 'object' : 'objects'}`;
        out.info(
          `${opts.diff ? 'diff' : 'deploy'}: ${n} to namespace ${access.namespace}; ${access.server} (${access.source})`,
        );
        const outcome = await deploy(
          { client, out, now: Date.now },
          {
            objects,
            force: opts.force,
            limits,
            timeoutMs: opts.timeoutMs,
            rollback: opts.rollback,
            diff: opts.diff ? (changes) => printDiff(changes, io, report.redact) : undefined,
          },
          signal,
        );
        const ok = outcome.kind === 'succeeded';
        const word = opts.diff ? 'DIFF' : 'DEPLOYED';
        out.result(
          ok,
          ok
            ? `${word}: ${outcome.message ?? 'done'}`
            : `FAILED: ${'message' in outcome ? outcome.message : outcome.kind}`,
        );
        return outcome;
      } finally {
        await client.close().catch(() => undefined);
      }
    },
  );
}

/**
 * --diff: each object's unified diff on stdout (as `kubectl diff` prints it), control characters
 * visible and secrets hidden; an unchanged object is one line on stdout too.
 */
function printDiff(changes: readonly ObjectDiff[], io: Io, redact: Redact): void {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.diff === undefined) lines.push(`# ${c.label}: unchanged`);
    else
      lines.push(
        `# ${c.label}: ${c.action === 'create' ? 'would be created' : 'would change'}`,
        ...c.diff.split('\n'),
      );
  }
  io.stdout.write(lines.map((l) => visibleControls(redact(l))).join('\n') + '\n');
}
