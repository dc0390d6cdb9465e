// Flags of `run` that bring files out of the test pods (README: Artifacts).
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { parseBytes } from '../../core/format.js';
import { VERSION } from '../../core/version.js';
import { MAX_OUTPUT_BYTES } from '../../artifacts/outputs.js';

/** The collector image by default: kubestep's own release image of this version. */
export const DEFAULT_ARTIFACTS_IMAGE = `ghcr.io/kubestep/kubestep:${VERSION}`;

/** Declares --artifacts, --artifacts-max-size, --fail-on-test-failures, --outputs and --artifacts-image. */
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
 * --fail-on-test-failures, --outputs.
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
    .option('outputs', {
      type: 'boolean',
      default: false,
      describe:
        'without --artifacts: collect only the values the tests write to $KUBESTEP_OUTPUT (NAME=VALUE lines)',
    });
}

/**
 * The artifacts flags as typed options; undefined without --artifacts and --outputs (--outputs
 * alone: `outputsOnly`, `dir` left to the run). Throws UsageError.
 */
export function artifactsOptions(a: {
  artifacts?: string | undefined;
  'artifacts-max-size': string;
  'artifacts-image': string;
  'fail-on-test-failures': boolean;
  outputs?: boolean | undefined;
}) {
  if (a.artifacts === undefined) {
    if (a['fail-on-test-failures'])
      throw new UsageError(
        '--fail-on-test-failures reads JUnit reports among the artifacts: give --artifacts DIR',
      );
    if (!a.outputs) return { artifacts: undefined };
    // The directory is made (and removed) by the run.
    const only = { dir: '', maxBytes: 2 * MAX_OUTPUT_BYTES, outputsOnly: true };
    return { artifacts: { ...only, image: a['artifacts-image'], failOnTestFailures: false } };
  }
  const maxBytes = parseBytes(a['artifacts-max-size']);
  if (maxBytes === undefined || maxBytes <= 0)
    throw new UsageError(
      `--artifacts-max-size ${JSON.stringify(a['artifacts-max-size'])} is not a size: give e.g. 500Mi or 2Gi`,
    );
  return {
    artifacts: {
      dir: a.artifacts,
      maxBytes,
      image: a['artifacts-image'],
      failOnTestFailures: a['fail-on-test-failures'],
    },
  };
}
