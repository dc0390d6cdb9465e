import { describe, expect, it } from 'vitest';
import {
  matchesJUnitPattern,
  mergeReports,
  parseJUnit,
  parseJUnitPattern,
  type JUnitPattern,
} from './junit.js';

// pytest --junitxml (file and line on the case), jest-junit (nested suites under <testsuites>),
// and a Go report with a bare <testsuite> root.
const PYTEST = `<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.12">
<testcase classname="tests.test_api" name="test_ok" file="tests/test_api.py" line="3" time="0.01"/>
<testcase classname="tests.test_api" name="test_status" file="tests/test_api.py" line="7" time="0.10">
<failure message="assert 500 == 200">def test_status():
&gt;       assert get("/").status == 200
E       assert 500 == 200</failure></testcase>
<testcase classname="tests.test_api" name="test_later" time="0"><skipped message="todo"/></testcase>
</testsuite></testsuites>`;

const GO = `<testsuite name="pkg/store" tests="2">
<testcase name="TestPut" time="0.5"/>
<testcase name="TestGet" time="0.25"><error>panic: nil map</error></testcase>
</testsuite>`;

describe('parseJUnit', () => {
  it('counts pytest cases and names the failure with file and line', () => {
    const r = parseJUnit(PYTEST, 'reports/junit.xml')!;
    expect(r).toMatchObject({
      tests: 3,
      failures: 1,
      errors: 0,
      skipped: 1,
      files: ['reports/junit.xml'],
    });
    expect(r.timeSeconds).toBeCloseTo(0.11);
    expect(r.failed).toEqual([
      {
        suite: 'pytest',
        name: 'test_status',
        kind: 'failure',
        message: 'assert 500 == 200',
        details:
          'def test_status():\n>       assert get("/").status == 200\nE       assert 500 == 200',
        file: 'tests/test_api.py',
        line: 7,
      },
    ]);
  });

  it('keeps every case for the merged report: passed, skipped, failed, in report order', () => {
    const r = parseJUnit(PYTEST, 'reports/junit.xml')!;
    expect(r.cases!.map((c) => [c.suite, c.classname, c.name, c.result, c.message])).toEqual([
      ['pytest', 'tests.test_api', 'test_ok', 'passed', undefined],
      ['pytest', 'tests.test_api', 'test_status', 'failure', 'assert 500 == 200'],
      ['pytest', 'tests.test_api', 'test_later', 'skipped', 'todo'],
    ]);
    expect(r.cases![1]).toMatchObject({ file: 'tests/test_api.py', line: 7, timeSeconds: 0.1 });
    const go = parseJUnit(GO, 'go.xml')!;
    expect(mergeReports(r, go).cases!.map((c) => c.name)).toEqual([
      'test_ok',
      'test_status',
      'test_later',
      'TestPut',
      'TestGet',
    ]);
  });

  it('reads a bare <testsuite> root; an error without message has its first line', () => {
    const r = parseJUnit(GO, 'go.xml')!;
    expect(r).toMatchObject({ tests: 2, failures: 0, errors: 1 });
    expect(r.failed[0]).toMatchObject({
      suite: 'pkg/store',
      name: 'TestGet',
      kind: 'error',
      message: 'panic: nil map',
    });
  });

  it('reads nested suites', () => {
    const r = parseJUnit(
      '<testsuites><testsuite name="a"><testsuite name="b"><testcase name="x"><failure message="m"/></testcase></testsuite></testsuite></testsuites>',
      'n.xml',
    )!;
    expect(r.failed).toEqual([expect.objectContaining({ suite: 'b', name: 'x', message: 'm' })]);
  });

  it.each(['<project><version>1</version></project>', 'not xml at all <', ''])(
    'is undefined for %j',
    (xml) => {
      expect(parseJUnit(xml, 'f.xml')).toBeUndefined();
    },
  );

  it('merges', () => {
    const m = mergeReports(parseJUnit(PYTEST, 'a.xml')!, parseJUnit(GO, 'b.xml')!);
    expect(m).toMatchObject({
      tests: 5,
      failures: 1,
      errors: 1,
      skipped: 1,
      files: ['a.xml', 'b.xml'],
    });
  });
});

describe('--junit patterns', () => {
  const A = '/kubestep/artifacts';
  it.each([
    ['/app/target/surefire-reports/*.xml', { dir: '/app/target/surefire-reports', glob: '*.xml' }],
    ['/app/reports/**/TEST-*.txt', { dir: '/app/reports', glob: '**/TEST-*.txt' }],
    ['/work/junit.xml', { dir: '/work', glob: 'junit.xml' }],
    ['reports/*.junit', { dir: undefined, glob: 'reports/*.junit' }],
    ['./out/**/*.xml', { dir: undefined, glob: 'out/**/*.xml' }],
  ])('%s', (p, want) => {
    expect(parseJUnitPattern(p, A)).toMatchObject({ pattern: p, ...want });
  });
  it.each([
    ['', /is empty/],
    ['/*.xml', /needs a directory/],
    ['/app/../etc/*.xml', /"\." or "\.\." segments/],
    ['../x/*.xml', /may not hold "\.\."/],
    [
      '/kubestep/artifacts/reports/*.xml',
      /under \$ARTIFACTS .*give it relative to it, e.g\. reports\/\*\.xml/,
    ],
  ])('%j is refused', (p, problem) => {
    expect((parseJUnitPattern(p, A) as { problem: string }).problem).toMatch(problem);
  });
  it('matches paths of the pod’s artifacts: absolute patterns under their mount, relative ones as they are', () => {
    const abs = parseJUnitPattern('/app/reports/**/TEST-*.txt', A) as JUnitPattern;
    expect(matchesJUnitPattern('.kubestep-junit/1/a/TEST-x.txt', abs, 1)).toBe(true);
    expect(matchesJUnitPattern('.kubestep-junit/1/TEST-x.txt', abs, 1)).toBe(true);
    expect(matchesJUnitPattern('.kubestep-junit/0/TEST-x.txt', abs, 1)).toBe(false);
    expect(matchesJUnitPattern('TEST-x.txt', abs, 1)).toBe(false);
    const rel = parseJUnitPattern('reports/*.junit', A) as JUnitPattern;
    expect(matchesJUnitPattern('reports/a.junit', rel, 0)).toBe(true);
    expect(matchesJUnitPattern('reports/x/a.junit', rel, 0)).toBe(false);
  });
});
