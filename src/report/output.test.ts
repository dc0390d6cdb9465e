// The pure parts of the output: CI detection, workflow-command escaping, secrets, the result.
import { describe, expect, it } from 'vitest';
import { escapeData, escapeProperty, outputMode } from './ci.js';
import { resultFile, runResult, summaryMarkdown, verdict } from './result.js';
import { redactDeep, redactor, secretValuesOf } from './secrets.js';
import type { JobSummary, Outcome } from '../core/outcome.js';

describe('outputMode', () => {
  it.each<[string, Record<string, string>, boolean, string, boolean, boolean]>([
    ['GitHub Actions', { GITHUB_ACTIONS: 'true' }, true, 'github', false, false],
    ['Cloud Build', { BUILD_ID: 'b-1' }, true, 'plain', false, false],
    ['another CI', { CI: 'true' }, true, 'plain', false, true],
    ['docker run in a GitHub run: step', { CI: 'true' }, false, 'plain', false, true],
    [
      'CI, pod commands passed on',
      { CI: 'true', KUBESTEP_POD_COMMANDS: 'pass' },
      false,
      'plain',
      false,
      false,
    ],
    ['a pipe', {}, false, 'plain', false, false],
    ['a dumb terminal', { TERM: 'dumb' }, true, 'plain', false, false],
    ['a terminal', {}, true, 'terminal', true, false],
    ['a terminal with NO_COLOR', { NO_COLOR: '1' }, true, 'terminal', false, false],
  ])('%s', (_, env, tty, mode, color, neutralise) => {
    expect(outputMode(env, tty)).toEqual({ mode, color, neutralise });
  });
});

describe('workflow command escaping', () => {
  it.each([
    ['100%\r\nnext', '100%25%0D%0Anext', '100%25%0D%0Anext'],
    ['job/a: b, c', 'job/a: b, c', 'job/a%3A b%2C c'],
  ])('%j', (input, data, property) => {
    expect(escapeData(input)).toBe(data);
    expect(escapeProperty(input)).toBe(property);
  });
});

describe('redactDeep', () => {
  it('redacts every string of an object, arrays and nesting included, keeping other values', () => {
    const r = redactor(['hunter2"x']);
    expect(
      redactDeep({ a: 'pw hunter2"x', b: [1, 'hunter2"x', { c: null, d: true }], e: 3 }, r),
    ).toEqual({ a: 'pw ***', b: [1, '***', { c: null, d: true }], e: 3 });
  });
});

describe('redactor', () => {
  it.each<[string, string[], string, string]>([
    ['no secrets: identity', [], 'a b c', 'a b c'],
    ['every occurrence', ['hunter2'], 'pw=hunter2 again hunter2', 'pw=*** again ***'],
    ['longest first', ['abc', 'abcdef'], 'x abcdef y abc', 'x *** y ***'],
    ['regex characters are literal', ['a.b*c'], 'a.b*c axbbc', '*** axbbc'],
    ['each line of a multi-line secret', ['line-one\nline-two'], 'got line-two', 'got ***'],
    ['values shorter than 3 are not masked', ['ab'], 'ab cd', 'ab cd'],
    [
      'quoted by the runtime (Go %q, JSON)',
      ['zq7"|<\\%25q8'],
      'exec: "/bin/zq7\\"|<\\\\%25q8": stat /bin/zq7"|<\\%25q8: no such file',
      'exec: "/bin/***": stat /bin/***: no such file',
    ],
  ])('%s', (_, secrets, text, want) => {
    expect(redactor(secrets)(text)).toBe(want);
  });
});

describe('secretValuesOf', () => {
  it('takes stringData as is and data decoded (and encoded)', () => {
    expect(
      secretValuesOf({
        stringData: { user: 'admin-user' },
        data: { password: Buffer.from('p4ssw0rd').toString('base64') },
      }),
    ).toEqual(['admin-user', 'cDRzc3cwcmQ=', 'p4ssw0rd']);
  });
});

describe('runResult and summaryMarkdown', () => {
  const job: JobSummary = {
    name: 'unit',
    namespace: 'ci',
    result: 'Failed',
    reason: 'BackoffLimitExceeded',
    explanation: 'failed 1 attempt (backoffLimit 0); last: container main | x exited with code 2',
    attempts: 1,
    exitCodes: [2],
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:04Z',
    durationMs: 4000,
    pods: [
      {
        name: 'unit-x',
        phase: 'Failed',
        containers: [
          {
            name: 'main',
            init: false,
            state: 'exit 2',
            exitCode: 2,
            restarts: 0,
            logLines: 120,
            logLinesLost: 3,
          },
        ],
      },
    ],
  };
  const outcome: Outcome = {
    kind: 'failed',
    reason: 'JobFailed',
    jobs: [job],
    message: 'job/unit failed',
  };

  it('writes outcome, exit code, times and per Job the reason and exit codes', () => {
    const r = runResult({ runId: 'r1', outcome, startedAtMs: 0, finishedAtMs: 5000 });
    expect(r).toMatchObject({
      version: 1,
      runId: 'r1',
      outcome: 'failed',
      reason: 'JobFailed',
      exitCode: 1,
      message: 'job/unit failed',
      startedAt: '1970-01-01T00:00:00.000Z',
      durationMs: 5000,
    });
    expect(r.jobs[0]).toMatchObject({
      name: 'unit',
      outcome: 'Failed',
      reason: 'BackoffLimitExceeded',
      exitCodes: [2],
      attempts: 1,
      durationMs: 4000,
      pods: [
        {
          name: 'unit-x',
          reason: null,
          containers: [{ name: 'main', exitCode: 2, logLines: 120, logLinesLost: 3 }],
        },
      ],
    });
  });

  it('writes an error result when the run ended before an outcome', () => {
    const r = runResult({
      runId: '',
      outcome: { kind: 'bad-input', reason: 'InputError', jobs: [], message: 'bad' },
      startedAtMs: 0,
      finishedAtMs: 1,
    });
    expect(r).toMatchObject({ outcome: 'error', exitCode: 2, message: 'bad', jobs: [] });
    expect(r.reason).toBe('InputError');
  });

  it('renders a Markdown table with escaped cells', () => {
    const md = summaryMarkdown(
      runResult({ runId: 'r1', outcome, startedAtMs: 0, finishedAtMs: 5000 }),
      'FAILED: job/unit failed',
    );
    expect(md).toContain('### kubestep: FAILED: job/unit failed');
    expect(md).toContain(
      '| `ci/unit` | ❌ Failed | 4.0 s | 1 | 120 (3 lost) | ` failed 1 attempt (backoffLimit 0); last: container main \\| x exited with code 2 ` |',
    );
    expect(md).toContain('Run `r1`, exit code 1.');
  });

  it('the step summary has the JUnit counts per Job and the failed cases, as text', () => {
    const tests = {
      tests: 3,
      failures: 1,
      errors: 0,
      skipped: 1,
      timeSeconds: 0.75,
      files: ['unit/unit-x/junit.xml'],
      failed: [
        {
          suite: 'api',
          name: 'test_status',
          kind: 'failure' as const,
          message: 'assert 500 == 200\nmore',
          file: 'tests/test_api.py',
          line: 7,
        },
        {
          suite: 'api',
          name: '[x](http://evil) `y`',
          kind: 'error' as const,
          message: '<b>boom</b>',
        },
      ],
    };
    const md = summaryMarkdown(
      runResult({
        runId: 'r1',
        outcome: { ...outcome, jobs: [{ ...job, tests }] },
        startedAtMs: 0,
        finishedAtMs: 5000,
      }),
      'FAILED: job/unit failed',
    );
    expect(md).toContain('| Job | Tests | Failed | Errors | Skipped | Time |');
    expect(md).toContain('| `ci/unit` | 3 | 1 | 0 | 1 | 0.8 s |');
    expect(md).toContain(
      '- ❌ ` unit: api › test_status ` at ` tests/test_api.py:7 `: ` assert 500 == 200 `',
    );
    expect(md).toContain('- ❌ `` unit: api › [x](http://evil) `y` ``: ` <b>boom</b> `');
    // The result file has the counts and failed cases, not every case (only --junit-report does).
    const withCases = runResult({
      runId: 'r1',
      outcome: {
        ...outcome,
        jobs: [
          {
            ...job,
            tests: {
              ...tests,
              cases: [{ suite: 'a', name: 'b', timeSeconds: 0, result: 'passed' }],
            },
          },
        ],
      },
      startedAtMs: 0,
      finishedAtMs: 5000,
    });
    expect(withCases.jobs[0]!.tests!.cases).toHaveLength(1);
    expect(resultFile(withCases).jobs[0]!.tests).toEqual(tests);
    // Without reports: no tests table.
    const plain = summaryMarkdown(
      runResult({ runId: 'r1', outcome, startedAtMs: 0, finishedAtMs: 5000 }),
      'FAILED',
    );
    expect(plain).not.toContain('| Tests |');
  });

  it('the step summary shows hostile texts as text: no heading, link, image or HTML of their own', () => {
    const evil =
      'evicted\r\n### kubestep: PASSED\n[log in](https://evil.example) ![x](http://evil/x.png) <img src=x> www.evil.example `code`';
    const md = summaryMarkdown(
      runResult({
        runId: 'r1',
        outcome: {
          kind: 'failed',
          reason: 'JobFailed',
          jobs: [{ ...job, explanation: evil }],
          message: evil,
        },
        startedAtMs: 0,
        finishedAtMs: 1,
      }),
      `FAILED: ${evil}`,
    );
    const lines = md.split('\n');
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(1);
    expect(lines[0]).toBe(
      '### kubestep: FAILED: evicted \\#\\#\\# kubestep: PASSED \\[log in\\]\\(https\\://evil.example\\) \\!\\[x\\]\\(http\\://evil/x.png\\) \\<img src=x\\> www\\.evil.example \\`code\\`',
    );
    expect(md).toContain(
      '| `` evicted ### kubestep: PASSED [log in](https://evil.example) ![x](http://evil/x.png) <img src=x> www.evil.example `code` `` |',
    );
  });
});

describe('verdict', () => {
  it.each<[string, Outcome, string]>([
    [
      'Jobs complete',
      { kind: 'succeeded', reason: 'Complete', jobs: [{} as JobSummary, {} as JobSummary] },
      'PASSED: all 2 Jobs are Complete',
    ],
    [
      'a dry run (no Jobs, a message)',
      { kind: 'succeeded', reason: 'Done', jobs: [], message: 'DRY RUN: a real run would start' },
      'DRY RUN: a real run would start',
    ],
    [
      'a failure',
      { kind: 'failed', reason: 'JobFailed', jobs: [], message: 'job/x failed' },
      'FAILED: job/x failed',
    ],
  ])('%s', (_name, outcome, text) => {
    expect(verdict(outcome)).toBe(text);
  });
});
