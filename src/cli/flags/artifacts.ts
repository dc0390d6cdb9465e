// Flags of `run` that bring files out of the test pods (README: Artifacts).
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { parseBytes } from '../../core/format.js';
import { VERSION } from '../../core/version.js';
import { ARTIFACTS_DIR } from '../../artifacts/inject.js';
import { parseJUnitPattern } from '../../artifacts/junit.js';

/** The collector image by default: kubestep's own release image of this version. */
export const DEFAULT_ARTIFACTS_IMAGE = `ghcr.io/kubestep/kubestep:${VERSION}`;

/** Declares --artifacts, --artifacts-max-size, --fail-on-test-failures, --junit, --outputs and --artifacts-image. */
export function artifactsFlags<T>(y: Argv<T>) {
  return collectionFlags(y).option('artifacts-image', {
    type: 'string',
    default: DEFAULT_ARTIFACTS_IMAGE,
    requiresArg: true,
    describe: "the collector's image: kubestep's own (a mirror of it in a private registry)",
  });
}

/**
 * The flags of `wait`, whose Jobs carry their collector already: --artifacts, --artifacts-max-size,
 * --fail-on-test-failures, --junit, --outputs.
 */
export function collectionFlags<T>(y: Argv<T>) {
  return y
    .option('artifacts', {
      type: 'string',
      requiresArg: true,
      describe:
        'collect what the tests write to $ARTIFACTS into DIR/<job>/<pod>/ (every attempt, also when a test failed)',
    })
    .option('artifacts-max-size', {
      type: 'string',
      default: '1Gi',
      requiresArg: true,
      describe: 'at most this much per pod (e.g. 500Mi, 2Gi); more is reported, not copied',
    })
    .option('fail-on-test-failures', {
      type: 'boolean',
      default: false,
      describe:
        'a Job that ended Complete while the JUnit reports among its artifacts have failed cases counts as failed (exit 1)',
    })
    .option('junit', {
      type: 'string',
      array: true,
      // One value per flag: `wait --junit x job/y` leaves job/y to the Jobs.
      nargs: 1,
      requiresArg: true,
      describe:
        'JUnit reports beside the *.xml files under $ARTIFACTS: a path or glob under $ARTIFACTS (reports/*.junit), or an absolute one in the test containers (/app/target/surefire-reports/*.xml; its directory is mounted for the collection); repeatable; works without --artifacts for absolute ones',
    })
    .option('outputs', {
      type: 'boolean',
      default: false,
      describe:
        'without --artifacts: collect only the values the tests write to $KUBESTEP_OUTPUT (NAME=VALUE lines)',
    });
}

/**
 * The artifacts flags as typed options; undefined without --artifacts, --outputs and --junit
 * (--outputs or absolute --junit patterns alone: `withoutArtifacts`, `dir` left to the run).
 * `absoluteJUnit`: false for `wait`, whose pods are made already. Throws UsageError.
 */
export function artifactsOptions(
  a: {
    artifacts?: string | undefined;
    'artifacts-max-size': string;
    'artifacts-image': string;
    'fail-on-test-failures': boolean;
    outputs?: boolean | undefined;
    junit?: (string | number)[] | undefined;
  },
  absoluteJUnit = true,
) {
  const junit = (a.junit ?? []).map((raw) => {
    const p = parseJUnitPattern(String(raw), ARTIFACTS_DIR);
    if ('problem' in p) throw new UsageError(`--junit ${JSON.stringify(String(raw))} ${p.problem}`);
    if (p.dir !== undefined && !absoluteJUnit)
      throw new UsageError(
        `--junit ${JSON.stringify(p.pattern)}: kubestep wait cannot mount a directory in pods that exist: give a path under $ARTIFACTS`,
      );
    if (p.dir === undefined && a.artifacts === undefined)
      throw new UsageError(
        `--junit ${JSON.stringify(p.pattern)} is a path under $ARTIFACTS: give --artifacts DIR too, or an absolute path in the test containers`,
      );
    return p;
  });
  if (a.artifacts === undefined) {
    if (a['fail-on-test-failures'] && junit.length === 0)
      throw new UsageError(
        '--fail-on-test-failures reads JUnit reports: give --artifacts DIR or --junit /PATH/*.xml',
      );
    if (!a.outputs && junit.length === 0) return { artifacts: undefined };
    // The directory is made (and removed) by the run.
    return {
      artifacts: {
        dir: '',
        maxBytes: parseMaxSize(a['artifacts-max-size']),
        withoutArtifacts: true,
        image: a['artifacts-image'],
        failOnTestFailures: a['fail-on-test-failures'],
        junit,
      },
    };
  }
  return {
    artifacts: {
      dir: a.artifacts,
      maxBytes: parseMaxSize(a['artifacts-max-size']),
      image: a['artifacts-image'],
      failOnTestFailures: a['fail-on-test-failures'],
      junit,
    },
  };
}

/** --artifacts-max-size in bytes. Throws UsageError. */
function parseMaxSize(text: string): number {
  const maxBytes = parseBytes(text);
  if (maxBytes === undefined || maxBytes <= 0)
    throw new UsageError(
      `--artifacts-max-size ${JSON.stringify(text)} is not a size: give e.g. 500Mi or 2Gi`,
    );
  return maxBytes;
}
