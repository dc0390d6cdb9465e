import { describe, expect, it } from 'vitest';
import type { TestJob } from '../manifests/jobs.js';
import { linePrefix, needsPrefix } from './log-format.js';

const testJob = (
  spec: Record<string, unknown> = {},
  pod: Record<string, unknown> = {},
): TestJob => ({
  origin: { source: 't.yaml', index: 1, line: 1 },
  name: 't',
  namespace: 'ns',
  job: {
    spec: {
      backoffLimit: 0,
      ...spec,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main' }], ...pod } },
    },
  },
});

describe('needsPrefix', () => {
  it.each([
    ['one container, no retries', [testJob()], false],
    ['default backoffLimit (6)', [testJob({ backoffLimit: undefined })], true],
    ['backoffLimit 2', [testJob({ backoffLimit: 2 })], true],
    ['two containers', [testJob({}, { containers: [{ name: 'a' }, { name: 'b' }] })], true],
    ['an init container', [testJob({}, { initContainers: [{ name: 'i' }] })], true],
    ['parallelism 2', [testJob({ parallelism: 2 })], true],
    ['completions 3', [testJob({ completions: 3 })], true],
    ['OnFailure', [testJob({}, { restartPolicy: 'OnFailure' })], true],
    ['two Jobs', [testJob(), testJob()], true],
  ])('%s → %s', (_, jobs, expected) => {
    expect(needsPrefix(jobs)).toBe(expected);
  });
});

describe('linePrefix', () => {
  it('looks like kubectl logs --prefix', () => {
    expect(linePrefix({ namespace: 'ns', pod: 'tests-x7k2p', container: 'main' })).toBe(
      '[pod/tests-x7k2p/main] ',
    );
  });
});
