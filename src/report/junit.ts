// The run as one JUnit XML report (`--junit-report FILE`): each Job, and each of its attempts, a
// test case, so that CI systems that read JUnit (GitLab, Jenkins, Buildkite, GitHub test
// reporters) show the run even when the tests write no report of their own. Pure.
import { XMLBuilder } from 'fast-xml-parser';
import { visibleControls } from './ci.js';
import type { JobResult, RunResult } from './result.js';

type Node = Record<string, unknown>;

/** Text for XML: control characters visible (XML 1.0 cannot hold most of them). */
const text = (s: string) => visibleControls(s);
/** An attribute value: one line. */
const attr = (s: string) => text(s.replace(/\r?\n/g, ' '));
const seconds = (ms: number | null | undefined) => ((ms ?? 0) / 1000).toFixed(3);

/** The result of a test case: passed (undefined), failure, error or skipped. */
type CaseResult = {
  kind: 'failure' | 'error' | 'skipped';
  message: string;
  body?: string | undefined;
  /** The failure's `type` attribute (JobFailed, Error by default). */
  type?: string;
};

/** A Job's own test case: Complete passes, Failed fails, Stuck and Running are errors. */
function jobCase(j: JobResult): CaseResult | undefined {
  switch (j.outcome) {
    case 'Complete':
      return undefined;
    case 'Failed':
      return { kind: 'failure', message: j.explanation, body: j.reason ?? undefined };
    case 'NotCreated':
      return { kind: 'skipped', message: 'not created' };
    case 'Stuck':
      return { kind: 'error', message: j.explanation, body: j.reason ?? undefined };
    case 'Running':
      return { kind: 'error', message: `did not finish: ${j.explanation}` };
  }
}

/** One attempt (pod): Succeeded passes, Failed fails with its containers' states, others skipped. */
function podCase(p: JobResult['pods'][number]): CaseResult | undefined {
  const containers = p.containers
    .map((c) => `${c.sidecar ? 'sidecar ' : c.init ? 'init ' : ''}${c.name}: ${c.state}`)
    .join('; ');
  if (p.phase === 'Succeeded') return undefined;
  if (p.phase === 'Failed')
    return { kind: 'failure', message: `${p.reason ?? 'Failed'}: ${containers}` };
  return { kind: 'skipped', message: `${p.phase} when the Job ended: ${containers}` };
}

function testcase(name: string, classname: string, ms: number | null, r?: CaseResult): Node {
  const node: Node = {
    '@_name': attr(name),
    '@_classname': attr(classname),
    '@_time': seconds(ms),
  };
  if (r) {
    node[r.kind] = {
      '@_message': attr(r.message),
      ...(r.kind !== 'skipped'
        ? { '@_type': r.type ?? (r.kind === 'failure' ? 'JobFailed' : 'Error') }
        : {}),
      ...(r.body ? { '#text': text(r.body) } : {}),
    };
  }
  return node;
}

/**
 * The run's JUnit XML: `<testsuites>` named after the run id, one `<testsuite>` per Job
 * (`job/NAME` in its namespace) with a test case for the Job itself, one per shard of a Job run
 * as one Indexed Job (`shard I`), and one per attempt (`attempt N: pod/NAME`), then the suites of the Job's own JUnit reports (`job/NAME › SUITE`,
 * their test cases as they were), and, when the run ended before it had Jobs (bad input, no access), one
 * suite `kubestep` with an error case carrying the message. Text is the result's (already
 * redacted); control characters are made visible.
 * Source: https://github.com/testmoapp/junitxml (the format CI systems read)
 */
export function junitReport(result: RunResult): string {
  const suites: Node[] = result.jobs.flatMap((j) => {
    const classname = `kubestep.${j.namespace}`;
    const cases = [
      testcase(`job/${j.name}`, classname, j.durationMs, jobCase(j)),
      ...(j.shards ?? []).map((s) =>
        testcase(
          `job/${j.name} shard ${s.index}`,
          classname,
          s.durationMs ?? null,
          s.result === 'Complete'
            ? undefined
            : s.result === 'Failed'
              ? { kind: 'failure', message: `shard ${s.index} failed after ${s.attempts} attempts` }
              : { kind: 'skipped', message: `shard ${s.index} had not ended when the Job did` },
        ),
      ),
      ...j.pods.map((p, i) =>
        testcase(`job/${j.name} attempt ${i + 1}: pod/${p.name}`, classname, null, podCase(p)),
      ),
    ];
    return [suite(`job/${j.name}`, cases, j.durationMs, j.startedAt), ...reportSuites(j)];
  });
  if (result.jobs.length === 0 && result.outcome !== 'succeeded') {
    const message = result.message ?? result.reason;
    suites.push(
      suite(
        'kubestep',
        [testcase('kubestep', 'kubestep', result.durationMs, { kind: 'error', message })],
        result.durationMs,
        result.startedAt,
      ),
    );
  }
  const count = (k: string) =>
    suites.reduce((n, s) => n + Number((s as Record<string, string>)[`@_${k}`]), 0);
  const root: Node = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': attr(`kubestep run ${result.runId}`),
      '@_tests': String(count('tests')),
      '@_failures': String(count('failures')),
      '@_errors': String(count('errors')),
      '@_skipped': String(count('skipped')),
      '@_time': seconds(result.durationMs),
      testsuite: suites,
    },
  };
  const builder = new XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    format: true,
    suppressEmptyNode: true,
  });
  return builder.build(root);
}

/**
 * The test cases of a Job's own JUnit reports (among its artifacts), one suite per report suite,
 * named `job/NAME › SUITE`.
 */
function reportSuites(j: JobResult): Node[] {
  const bySuite = new Map<string, Node[]>();
  const ms = new Map<string, number>();
  for (const c of j.tests?.cases ?? []) {
    const r: CaseResult | undefined =
      c.result === 'passed'
        ? undefined
        : { kind: c.result, message: c.message ?? c.result, body: c.details, type: c.result };
    const node = testcase(c.name, c.classname ?? c.suite, c.timeSeconds * 1000, r);
    if (c.file) node['@_file'] = attr(c.file);
    if (c.line) node['@_line'] = String(c.line);
    bySuite.set(c.suite, [...(bySuite.get(c.suite) ?? []), node]);
    ms.set(c.suite, (ms.get(c.suite) ?? 0) + c.timeSeconds * 1000);
  }
  return [...bySuite].map(([name, cases]) =>
    suite(`job/${j.name} › ${name}`, cases, ms.get(name) ?? 0, null),
  );
}

function suite(name: string, cases: Node[], ms: number | null, startedAt: string | null): Node {
  const n = (k: string) => cases.filter((c) => k in c).length;
  return {
    '@_name': attr(name),
    '@_tests': String(cases.length),
    '@_failures': String(n('failure')),
    '@_errors': String(n('error')),
    '@_skipped': String(n('skipped')),
    '@_time': seconds(ms),
    ...(startedAt ? { '@_timestamp': startedAt } : {}),
    testcase: cases,
  };
}
