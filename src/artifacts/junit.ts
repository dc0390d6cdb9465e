// JUnit XML reports that tests leave in their artifacts: what they count and which cases failed.
// Pure. The format as CI systems read it: https://github.com/testmoapp/junitxml
import { XMLParser } from 'fast-xml-parser';
import picomatch from 'picomatch';

export type { FailedCase, TestCase, TestReport } from '../core/outcome.js';
import { MAX_CASES, type TestCase, type TestReport } from '../core/outcome.js';

type Node = Record<string, unknown>;
/** Elements as objects; one with text only (`<error>panic</error>`, `<skipped/>`) as `{'#text'}`. */
const asArray = (v: unknown): Node[] =>
  v === undefined
    ? []
    : (Array.isArray(v) ? v : [v]).map((x): Node =>
        typeof x === 'object' && x !== null ? (x as Node) : { '#text': String(x) },
      );
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  textNodeName: '#text',
  parseAttributeValue: false,
  isArray: (name) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
});

/** An empty report. */
export function emptyReport(): TestReport {
  return {
    tests: 0,
    failures: 0,
    errors: 0,
    skipped: 0,
    timeSeconds: 0,
    failed: [],
    files: [],
    cases: [],
  };
}

/**
 * The report in `xml` (root `<testsuites>` or `<testsuite>`, suites nested or not), or undefined
 * when it is not JUnit XML. Counts come from the test cases, not from the suites' attributes
 * (tools disagree about those).
 */
export function parseJUnit(xml: string, file: string): TestReport | undefined {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch {
    return undefined;
  }
  if (!('testsuites' in doc) && !('testsuite' in doc)) return undefined;
  const report = { ...emptyReport(), files: [file] };
  const cases: TestCase[] = [];
  const visit = (suite: Node, path: string) => {
    const name = str(suite.name) ?? path;
    for (const c of asArray(suite.testcase)) {
      report.tests++;
      const time = Number(str(c.time) ?? 0) || 0;
      report.timeSeconds += time;
      const failure = asArray(c.failure)[0];
      const error = asArray(c.error)[0];
      const base = {
        suite: name,
        name: str(c.name) ?? '(unnamed)',
        classname: str(c.classname),
        timeSeconds: time,
      };
      if (failure || error) {
        const kind = failure ? 'failure' : 'error';
        if (kind === 'failure') report.failures++;
        else report.errors++;
        const f = (failure ?? error)!;
        const text = (str(f['#text']) ?? '').trim();
        const firstLines = text.split('\n').slice(0, 5).join('\n').slice(0, 500);
        const line = Number(str(c.line));
        const failed = {
          suite: name,
          name: base.name,
          kind,
          message: (str(f.message) ?? text.split('\n')[0] ?? '').trim() || kind,
          details: firstLines || undefined,
          file: str(c.file) ?? str(suite.file),
          line: Number.isInteger(line) && line > 0 ? line : undefined,
        } as const;
        report.failed.push(failed);
        if (cases.length < MAX_CASES) cases.push({ ...base, ...failed, result: kind });
      } else {
        const skipped = asArray(c.skipped)[0];
        if (skipped) report.skipped++;
        if (cases.length < MAX_CASES)
          cases.push(
            skipped
              ? { ...base, result: 'skipped', message: str(skipped.message) }
              : { ...base, result: 'passed' },
          );
      }
    }
    for (const s of asArray(suite.testsuite)) visit(s, name);
  };
  const suites =
    'testsuites' in doc
      ? asArray(doc.testsuites).flatMap((r) => asArray(r.testsuite))
      : asArray(doc.testsuite);
  for (const s of suites) visit(s, file);
  return { ...report, cases };
}

/** `a` and `b` together. */
export function mergeReports(a: TestReport, b: TestReport): TestReport {
  return {
    tests: a.tests + b.tests,
    failures: a.failures + b.failures,
    errors: a.errors + b.errors,
    skipped: a.skipped + b.skipped,
    timeSeconds: a.timeSeconds + b.timeSeconds,
    failed: [...a.failed, ...b.failed],
    files: [...a.files, ...b.files],
    cases: [...(a.cases ?? []), ...(b.cases ?? [])].slice(0, MAX_CASES),
  };
}

/** Where, under the artifacts volume, the directories of `--junit /DIR/GLOB` patterns are mounted. */
export const JUNIT_MOUNTS = '.kubestep-junit';

/**
 * One `--junit` pattern: an absolute one names a directory of the test containers (`dir`, mounted
 * from the artifacts volume at `JUNIT_MOUNTS/<index>`) and a glob of paths under it; a relative
 * one is a glob of paths under `$ARTIFACTS`.
 */
export interface JUnitPattern {
  /** As given. */
  pattern: string;
  /** Absolute directory in the test containers, without glob characters. */
  dir?: string | undefined;
  /** picomatch glob of paths relative to `dir` (or to the artifacts directory). */
  glob: string;
}

const GLOB_CHARS = /[*?[\]{}!]/;

/**
 * `--junit PATTERN` as a JUnitPattern, or a problem (what is wrong, what to give): an absolute
 * pattern's directory is its segments before the first with a glob character (a pattern without
 * any names one file); it may not be `/` or under the artifacts directory `artifactsDir`.
 */
export function parseJUnitPattern(
  pattern: string,
  artifactsDir: string,
): JUnitPattern | { problem: string } {
  const p = pattern.trim();
  if (!p) return { problem: 'is empty: give e.g. /app/reports/*.xml or reports/**/*.xml' };
  if (!p.startsWith('/')) {
    if (p.split('/').includes('..')) return { problem: 'may not hold ".."' };
    return { pattern, dir: undefined, glob: p.replace(/^\.\//, '') };
  }
  const segments = p.split('/').filter(Boolean);
  if (segments.includes('..') || segments.includes('.'))
    return { problem: 'may not hold "." or ".." segments' };
  let k = segments.findIndex((s) => GLOB_CHARS.test(s));
  if (k < 0) k = segments.length - 1;
  if (k === 0)
    return { problem: 'needs a directory before its file pattern, e.g. /app/reports/*.xml' };
  const dir = `/${segments.slice(0, k).join('/')}`;
  if (dir === artifactsDir || dir.startsWith(`${artifactsDir}/`))
    return {
      problem: `is under $ARTIFACTS (${artifactsDir}): give it relative to it, e.g. ${p.slice(artifactsDir.length + 1)}`,
    };
  return { pattern, dir, glob: segments.slice(k).join('/') };
}

/**
 * Whether `path` (relative to a pod's artifacts directory, `/`-separated) is a report that the
 * pattern at `index` of `patterns` names: an absolute pattern's files are under
 * `JUNIT_MOUNTS/<index>/`.
 */
export function matchesJUnitPattern(path: string, pattern: JUnitPattern, index: number): boolean {
  if (pattern.dir === undefined) return picomatch.isMatch(path, pattern.glob, { dot: true });
  const prefix = `${JUNIT_MOUNTS}/${index}/`;
  return (
    path.startsWith(prefix) &&
    picomatch.isMatch(path.slice(prefix.length), pattern.glob, { dot: true })
  );
}
