// `kubestep deploy` (issue 22, in progress): apply manifests and wait for the rollouts. Wiring
// only: the work is deploy/deploy.ts.
import { randomBytes } from 'node:crypto';
import { formatDuration } from '../core/format.js';
import type { Outcome } from '../core/outcome.js';
import { deploy } from '../deploy/deploy.js';
import type { RolloutLimits } from '../deploy/judge.js';
import { resolveClusterAccess } from '../kube/config.js';
import { toManifestObjects } from '../manifests/objects.js';
import { parseManifests } from '../manifests/parse.js';
import { variableLookup } from '../manifests/substitute.js';
import {
  connect,
  readSources,
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
  /** --rollout-timeout, ms: the limit for the whole step. */
  timeoutMs: number;
  maxRestarts: number;
  readinessGraceMs: number;
}

/**
 * Runs `kubestep deploy`: reads and substitutes the manifests, applies them (deploy/deploy.ts)
 * and waits for the rollouts within --rollout-timeout. Returns the outcome (succeeded, failed:
 * the new version is broken, infra-error: its pods cannot start, timed-out); throws InputError,
 * InfraError or KubeApiError for what ends it before (the caller maps them).
 */
export async function deployCommand(
  opts: DeployOptions,
  io: Io,
  signal: AbortSignal,
): Promise<Outcome> {
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
  const { client, out } = connect(access, opts, io, true, Object.values(opts.setSecret));
  const limits: RolloutLimits = {
    graces: opts.graces,
    maxRestarts: opts.maxRestarts,
    readinessGraceMs: opts.readinessGraceMs,
  };
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    out.info(
      `deploy: ${objects.length} ${objects.length === 1 ? 'object' : 'objects'} to namespace ${access.namespace}; ${access.server} (${access.source})`,
    );
    const outcome = await deploy(
      { client, out, now: Date.now },
      { objects, force: opts.force, limits },
      AbortSignal.any([signal, timeout]),
    ).catch((err: unknown): Outcome => {
      if (timeout.aborted && !signal.aborted) {
        const message = `--rollout-timeout of ${formatDuration(opts.timeoutMs)} passed before the rollouts were done`;
        return { kind: 'timed-out', reason: 'Timeout', jobs: [], message };
      }
      throw err;
    });
    const ok = outcome.kind === 'succeeded';
    out.result(
      ok,
      ok
        ? `DEPLOYED: ${outcome.message ?? 'done'}`
        : `FAILED: ${'message' in outcome ? outcome.message : outcome.kind}`,
    );
    return outcome;
  } finally {
    out.close();
    await client.close().catch(() => undefined);
  }
}
