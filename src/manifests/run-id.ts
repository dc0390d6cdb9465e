// The run id that makes a run's objects unique and findable. Pure.
import { UsageError } from '../core/errors.js';
import { toLabelSafe } from './names.js';

/** Where a run id may come from. */
export interface RunIdSources {
  /** --run-id */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** A fallback, e.g. random hex; used when nothing else is set. */
  random: () => string;
  /**
   * Unique per process (`run`): the CI's id gets `-` and 6 characters of `random()` appended, so
   * that parallel steps of one build (matrix legs, parallel Cloud Build steps) never share objects.
   */
  unique?: boolean;
}

/** Characters of `random()` appended to the CI's id by {@link RunIdSources.unique}. */
const SUFFIX = 6;

/**
 * The run id: --run-id, else Cloud Build's `BUILD_ID`, else GitHub Actions'
 * `GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT` (with `unique`: followed by a random suffix), else random. Made a valid label value that can also stand in
 * DNS names (lower case, `[a-z0-9-]`), at most 40 characters so that `name-${RUN_ID}` fits 63.
 * Returns `{ runId, from }` where `from` names the source, for the log. Throws UsageError when
 * --run-id has no letter or digit, or is longer than 40 characters: `up` and `down` must agree
 * on the id, and two long ids cut to the same 40 characters would share their objects.
 */
export function resolveRunId(s: RunIdSources): { runId: string; from: string } {
  if (s.flag !== undefined) {
    const runId = toLabelSafe(s.flag, Infinity);
    if (!runId)
      throw new UsageError(
        `--run-id ${JSON.stringify(s.flag)} has no letter or digit: give an id such as $BUILD_ID or 7f3a9c1e`,
      );
    if (runId.length > 40)
      throw new UsageError(
        `--run-id ${JSON.stringify(s.flag)} is ${runId.length} characters long; the limit is 40 (it goes into names of at most 63)`,
      );
    return { runId, from: '--run-id' };
  }
  const candidates: [string | undefined, string][] = [
    [s.env.BUILD_ID, 'BUILD_ID'],
    [
      s.env.GITHUB_RUN_ID ? `${s.env.GITHUB_RUN_ID}-${s.env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined,
      'GITHUB_RUN_ID',
    ],
  ];
  for (const [raw, from] of candidates) {
    if (!raw) continue;
    if (s.unique) {
      const suffix = toLabelSafe(s.random(), SUFFIX).slice(0, SUFFIX);
      const base = toLabelSafe(raw, 40 - 1 - suffix.length);
      if (base) return { runId: `${base}-${suffix}`, from: `${from} and a random suffix` };
      continue;
    }
    const runId = toLabelSafe(raw, 40);
    if (runId) return { runId, from };
  }
  return { runId: toLabelSafe(s.random(), 40), from: 'random' };
}
