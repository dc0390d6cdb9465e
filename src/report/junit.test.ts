import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { junitReport } from './junit.js';
import type { JobResult, RunResult } from './result.js';

const container = (name: string, state: string, exitCode: number | null) => ({
  name,
  init: false,
  state,
  exitCode,
  restarts: 0,
  logLines: 1,
  logLinesLost: 0,
  sidecar: false,
  terminationMessage: null,
});

const job = (
  name: string,
  outcome: JobResult['outcome'],
  pods: JobResult['pods'],
  explanation: string,
): JobResult => ({
  name,
  namespace: 'ci',
  outcome,
  reason: outcome === 'Failed' ? 'BackoffLimitExceeded' : null,
  explanation,
  exitCodes: [],
  attempts: pods.length,
  shards: null,
  startedAt: '2026-11-29T10:00:00.000Z',
  finishedAt: null,
  durationMs: 12_500,
  tests: null,
  outputs: {},
  pods,
});

const run = (jobs: JobResult[], over: Partial<RunResult> = {}): RunResult => ({
  version: 1,
  runId: 'build-7',
  outcome: 'failed',
  reason: 'JobFailed',
  exitCode: 1,
  startedAt: '2026-11-29T10:00:00.000Z',
  finishedAt: '2026-11-29T10:00:20.000Z',
  durationMs: 20_000,
  outputs: {},
  jobs,
  ...over,
});

const parse = (xml: string) =>
  new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (n) => n === 'testsuite' || n === 'testcase',
  }).parse(xml) as {
    testsuites: Record<string, string> & {
      testsuite: (Record<string, string> & { testcase: Record<string, unknown>[] })[];
    };
  };

describe('junitReport', () => {
  it('has a suite per Job with a case for the Job and one per attempt', () => {
    const xml = junitReport(
      run([
        job(
          'unit',
          'Complete',
          [
            {
              name: 'unit-a',
              phase: 'Succeeded',
              reason: null,
              containers: [container('main', 'exit 0', 0)],
            },
          ],
          'succeeded',
        ),
        job(
          'e2e',
          'Failed',
          [
            {
              name: 'e2e-a',
              phase: 'Failed',
              reason: null,
              containers: [container('main', 'exit 3', 3)],
            },
            {
              name: 'e2e-b',
              phase: 'Failed',
              reason: null,
              containers: [container('main', 'exit 3', 3)],
            },
          ],
          'failed 2 attempts (backoffLimit 1); last: container main of pod/e2e-b exited with code 3',
        ),
      ]),
    );
    const r = parse(xml).testsuites;
    expect(r).toMatchObject({
      name: 'kubestep run build-7',
      tests: '5',
      failures: '3',
      errors: '0',
      skipped: '0',
      time: '20.000',
    });
    expect(r.testsuite.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ['job/unit', '2', '0'],
      ['job/e2e', '3', '3'],
    ]);
    const e2e = r.testsuite[1]!.testcase;
    expect(e2e.map((c) => c.name)).toEqual([
      'job/e2e',
      'job/e2e attempt 1: pod/e2e-a',
      'job/e2e attempt 2: pod/e2e-b',
    ]);
    expect(e2e[0]).toMatchObject({
      classname: 'kubestep.ci',
      time: '12.500',
      failure: {
        message:
          'failed 2 attempts (backoffLimit 1); last: container main of pod/e2e-b exited with code 3',
        '#text': 'BackoffLimitExceeded',
      },
    });
    expect(e2e[1]).toMatchObject({ failure: { message: 'Failed: main: exit 3' } });
  });

  it('has a case per shard of a Job run as one Indexed Job: the failed shard a failure', () => {
    const suite = {
      ...job('suite', 'Failed', [], 'FailedIndexes: Job has failed indexes'),
      shards: [
        { index: 0, result: 'Complete' as const, attempts: 1, durationMs: 5_000 },
        { index: 1, result: 'Failed' as const, attempts: 2, durationMs: 4_000 },
      ],
    };
    const r = parse(junitReport(run([suite]))).testsuites;
    const cases = r.testsuite[0]!.testcase;
    expect(cases.map((c) => [c.name, c.time])).toEqual([
      ['job/suite', '12.500'],
      ['job/suite shard 0', '5.000'],
      ['job/suite shard 1', '4.000'],
    ]);
    expect(cases[1]!.failure).toBeUndefined();
    expect(cases[2]).toMatchObject({
      failure: { message: 'shard 1 failed after 2 attempts', type: 'JobFailed' },
    });
  });

  it("merges the Job's own JUnit cases as suites of their own, after the Job's suite", () => {
    const unit = job(
      'unit',
      'Failed',
      [
        {
          name: 'unit-a',
          phase: 'Failed',
          reason: null,
          containers: [container('main', 'exit 1', 1)],
        },
      ],
      'failed',
    );
    unit.tests = {
      tests: 3,
      failures: 1,
      errors: 0,
      skipped: 1,
      timeSeconds: 0.6,
      files: ['unit/unit-a/junit.xml'],
      failed: [],
      cases: [
        {
          suite: 'api',
          name: 'test_ok',
          classname: 'tests.api',
          timeSeconds: 0.5,
          result: 'passed',
        },
        {
          suite: 'api',
          name: 'test_status',
          timeSeconds: 0.1,
          result: 'failure',
          message: 'assert 500 == 200',
          details: 'E  assert 500 == 200',
          file: 'tests/test_api.py',
          line: 7,
        },
        { suite: 'db', name: 'test_later', timeSeconds: 0, result: 'skipped', message: 'todo' },
      ],
    };
    const r = parse(junitReport(run([unit]))).testsuites;
    expect(r.testsuite.map((s) => [s.name, s.tests, s.failures, s.skipped])).toEqual([
      ['job/unit', '2', '2', '0'],
      ['job/unit › api', '2', '1', '0'],
      ['job/unit › db', '1', '0', '1'],
    ]);
    expect(r).toMatchObject({ tests: '5', failures: '3', skipped: '1' });
    const [ok, bad] = r.testsuite[1]!.testcase;
    expect(ok).toMatchObject({ name: 'test_ok', classname: 'tests.api', time: '0.500' });
    expect(ok).not.toHaveProperty('failure');
    expect(bad).toMatchObject({
      name: 'test_status',
      classname: 'api',
      file: 'tests/test_api.py',
      line: '7',
      failure: { message: 'assert 500 == 200', type: 'failure', '#text': 'E  assert 500 == 200' },
    });
    expect(r.testsuite[2]!.testcase[0]).toMatchObject({ skipped: { message: 'todo' } });
  });

  it('makes a stuck Job an error, a timed-out one an error, one not created skipped', () => {
    const r = parse(
      junitReport(
        run([
          job(
            'stuck',
            'Stuck',
            [
              {
                name: 's-a',
                phase: 'Pending',
                reason: null,
                containers: [container('main', 'waiting: ErrImagePull', null)],
              },
            ],
            'pod/s-a cannot start',
          ),
          job('slow', 'Running', [], 'still running'),
          job('later', 'NotCreated', [], 'not created'),
        ]),
      ),
    ).testsuites;
    expect(r).toMatchObject({ tests: '4', errors: '2', skipped: '2', failures: '0' });
    expect(r.testsuite[1]!.testcase[0]).toMatchObject({
      error: { message: 'did not finish: still running' },
    });
  });

  it('reports a run that ended before it had Jobs as one error case, text escaped and controls visible', () => {
    const xml = junitReport(
      run([], {
        outcome: 'error',
        reason: 'InputError',
        message: 'tests.yaml: <bad> & "worse"\x1b[2J',
      }),
    );
    expect(xml).toContain('message="tests.yaml: &lt;bad&gt; &amp; &quot;worse&quot;^[[2J"');
    const r = parse(xml).testsuites;
    expect(r.testsuite[0]).toMatchObject({ name: 'kubestep', errors: '1' });
  });

  it('writes no suite for a run that passed without Jobs', () => {
    const r = parse(
      junitReport(run([], { outcome: 'succeeded', reason: 'Complete', exitCode: 0 })),
    ).testsuites;
    expect(r.tests).toBe('0');
  });
});
