// The run id that makes a run's objects unique and findable. Pure.
import { toLabelSafe } from './names.js';

/** Where a run id may come from. */
export interface RunIdSources {
  /** --run-id */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** A fallback, e.g. random hex; used when nothing else is set. */
  random: () => string;
}

/**
 * The run id: --run-id, else Cloud Build's `BUILD_ID`, else GitHub Actions'
 * `GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT`, else random. Made a valid label value that can also stand in
 * DNS names (lower case, `[a-z0-9-]`), at most 40 characters so that `name-${RUN_ID}` fits 63.
 * Returns `{ runId, from }` where `from` names the source, for the log.
 */
export function resolveRunId(s: RunIdSources): { runId: string; from: string } {
  const candidates: [string | undefined, string][] = [
    [s.flag, '--run-id'],
    [s.env.BUILD_ID, 'BUILD_ID'],
    [
      s.env.GITHUB_RUN_ID ? `${s.env.GITHUB_RUN_ID}-${s.env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined,
      'GITHUB_RUN_ID',
    ],
  ];
  for (const [raw, from] of candidates) {
    if (!raw) continue;
    const runId = toLabelSafe(raw, 40);
    if (runId) return { runId, from };
  }
  return { runId: toLabelSafe(s.random(), 40), from: 'random' };
}
