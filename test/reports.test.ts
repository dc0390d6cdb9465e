// What a run leaves for the CI besides its log (issue 21, first part): the merged JUnit report
// (--junit-report) and the containers' termination messages in the summary and the result file.
import { XMLParser } from 'fast-xml-parser';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('reports');

it('a failing Job with a retry: a JUnit case for the Job and each attempt; termination messages shown and kept', async () => {
  const f = manifestFile(
    jobYaml(
      'e2e',
      'echo running; printf "2 of 5 cases failed\\nsee the log" > /dev/termination-log; exit 3',
      { backoffLimit: 1 },
    ),
  );
  const dir = tmpdir();
  const junit = join(dir, `kubestep-junit-${process.pid}.xml`);
  const result = join(dir, `kubestep-result-${process.pid}.json`);
  const r = await runCli([
    'run',
    '-f',
    f,
    '-n',
    t.ns,
    '--junit-report',
    junit,
    '-o',
    'json',
    '--output-file',
    result,
  ]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(
    /pod\/e2e-\w+ main: termination message: 2 of 5 cases failed ⏎ see the log/,
  );

  const json = JSON.parse(await readFile(result, 'utf8')) as {
    jobs: { pods: { containers: { terminationMessage: string | null }[] }[] }[];
  };
  expect(json.jobs[0]!.pods.map((p) => p.containers[0]!.terminationMessage)).toEqual([
    '2 of 5 cases failed\nsee the log',
    '2 of 5 cases failed\nsee the log',
  ]);

  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
    await readFile(junit, 'utf8'),
  ) as { testsuites: Record<string, string> & { testsuite: { testcase: { name: string }[] } } };
  expect(xml.testsuites).toMatchObject({ tests: '3', failures: '3', errors: '0' });
  expect(xml.testsuites.testsuite.testcase.map((c) => c.name)).toEqual([
    'job/e2e',
    expect.stringMatching(/^job\/e2e attempt 1: pod\/e2e-\w+$/),
    expect.stringMatching(/^job\/e2e attempt 2: pod\/e2e-\w+$/),
  ]);
});

it('bad input still writes a JUnit report with one error case', async () => {
  const junit = join(tmpdir(), `kubestep-junit-bad-${process.pid}.xml`);
  const f = manifestFile('apiVersion: batch/v1\nkind: Job\nmetadata: {name: "x-${NOPE}"}\n');
  const r = await runCli(['run', '-f', f, '-n', t.ns, '--junit-report', junit]);
  expect(r.code, r.stderr).toBe(2);
  const xml = await readFile(junit, 'utf8');
  expect(xml).toMatch(
    /<testcase name="kubestep" classname="kubestep" time="[\d.]+">\s*<error message="[^"]*variable \$\{NOPE\} is not defined/,
  );
});
