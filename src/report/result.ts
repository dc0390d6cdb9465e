// The result of a run for machines (JSON for other steps) and for GitHub's step summary
// (Markdown). Pure.
import { formatDuration } from '../core/format.js';
import { visibleControls } from './ci.js';
import {
  exitCodeOf,
  mergedOutputs,
  type JobSummary,
  type Outcome,
  type ShardSummary,
  type TestReport,
} from '../core/outcome.js';

/** How a run ended, as `--output json` writes it (`version` changes when fields change meaning). */
export interface RunResult {
  version: 1;
  runId: string;
  /** `succeeded`, `failed`, `timed-out`, `infra-error`, `cancelled`, or `error` (bad input, no access). */
  outcome: Exclude<Outcome['kind'], 'bad-input'> | 'error';
  /** Why, for machines: `Complete`, `JobFailed`, `Timeout`, `PodCannotStart`, … (OutcomeReason). */
  reason: Outcome['reason'];
  exitCode: number;
  message?: string;
  /** ISO times of the kubestep process. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The values the tests wrote to `$KUBESTEP_OUTPUT` (`--artifacts`), a later Job's winning. */
  outputs: Record<string, string>;
  jobs: JobResult[];
}

/** One Job in {@link RunResult}. */
export interface JobResult {
  name: string;
  namespace: string;
  /** `Complete`, `Failed`, `Stuck` (a pod cannot start), `Running` (timed out, cancelled), `NotCreated`. */
  outcome: JobSummary['result'];
  reason: string | null;
  explanation: string;
  exitCodes: number[];
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** What the JUnit reports among its artifacts say (`--artifacts`); null when there are none. */
  tests: TestReport | null;
  /** Its pods' `$KUBESTEP_OUTPUT` values. */
  outputs: Record<string, string>;
  /** A Job run as one Indexed Job of shards: each shard (index, result, attempts, durationMs); else null. */
  shards: ShardSummary[] | null;
  pods: {
    name: string;
    phase: string;
    reason: string | null;
    containers: {
      name: string;
      init: boolean;
      state: string;
      exitCode: number | null;
      restarts: number;
      /** Log lines mirrored; null when the log was not followed. */
      logLines: number | null;
      /** Log lines known to be missing; null when unknown (some are, or it was not followed). */
      logLinesLost: number | null;
      /** A sidecar (its end does not decide the pod's result). */
      sidecar: boolean;
      /** What it wrote to its terminationMessagePath (at most 4 KiB); null when nothing. */
      terminationMessage: string | null;
    }[];
  }[];
}

/**
 * The machine-readable result of a command from its outcome; bad input and errors that ended it
 * before it had Jobs (`early`) are `outcome: "error"`. Times in ms since the epoch.
 */
export function runResult(r: {
  runId: string;
  outcome: Outcome;
  startedAtMs: number;
  finishedAtMs: number;
}): RunResult {
  const o = r.outcome;
  const message = 'message' in o ? o.message : undefined;
  const early = o.kind === 'bad-input' || (o.kind === 'infra-error' && o.early === true);
  return {
    version: 1,
    runId: r.runId,
    outcome: early ? 'error' : o.kind,
    reason: o.reason,
    exitCode: exitCodeOf(o),
    ...(message !== undefined ? { message } : {}),
    startedAt: new Date(r.startedAtMs).toISOString(),
    finishedAt: new Date(r.finishedAtMs).toISOString(),
    durationMs: r.finishedAtMs - r.startedAtMs,
    outputs: mergedOutputs(o.jobs),
    jobs: o.jobs.map((j) => ({
      name: j.name,
      namespace: j.namespace,
      outcome: j.result,
      reason: j.reason ?? null,
      explanation: j.explanation,
      exitCodes: j.exitCodes,
      attempts: j.attempts,
      startedAt: j.startedAt ?? null,
      finishedAt: j.finishedAt ?? null,
      durationMs: j.durationMs ?? null,
      tests: j.tests ?? null,
      outputs: j.outputs ?? {},
      shards: j.shards ?? null,
      pods: j.pods.map((p) => ({
        name: p.name,
        phase: p.phase,
        reason: p.reason ?? null,
        containers: p.containers.map((c) => ({
          name: c.name,
          init: c.init,
          state: c.state,
          exitCode: c.exitCode ?? null,
          restarts: c.restarts,
          logLines: c.logLines ?? null,
          logLinesLost: c.logLines === undefined ? null : (c.logLinesLost ?? null),
          sidecar: c.sidecar ?? false,
          terminationMessage: c.terminationMessage ?? null,
        })),
      })),
    })),
  };
}

const ICON: Record<JobSummary['result'], string> = {
  Complete: '✅',
  Failed: '❌',
  Stuck: '⛔',
  Running: '⏳',
  NotCreated: '➖',
};

/**
 * Text from pods, events and the API server as one line of Markdown that renders as the text
 * itself: control characters visible, no line break, and every character Markdown reads as
 * markup escaped, `://` and `www.` too (no links, images, HTML or headings of its own).
 */
function markdownText(s: string): string {
  return visibleControls(s.replace(/\r?\n/g, ' '))
    .replace(/[\\`*_[\]{}()<>#+!|~]/g, '\\$&')
    .replace(/:\/\//g, '\\://')
    .replace(/www\./gi, (m) => `${m.slice(0, 3)}\\.`);
}

/** Untrusted text as a code span in a table cell: shown as is, never markup or a link. */
function codeCell(s: string): string {
  const text = visibleControls(s.replace(/\r?\n/g, ' ')).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence} ${text} ${fence}`;
}

/** `20000`, `19800 (200 lost)`, `1200 (some lost)`; empty when no log was followed. */
function logLinesCell(j: RunResult['jobs'][number]): string {
  const followed = j.pods.flatMap((p) => p.containers).filter((c) => c.logLines !== null);
  if (followed.length === 0) return '';
  const lines = followed.reduce((n, c) => n + c.logLines!, 0);
  const lost = followed.some((c) => c.logLinesLost === null)
    ? 'some'
    : followed.reduce((n, c) => n + c.logLinesLost!, 0);
  return lost === 0 ? String(lines) : `${lines} (${lost} lost)`;
}

/**
 * The run as Markdown for `$GITHUB_STEP_SUMMARY`: a heading with the verdict and a table of Jobs
 * (result, duration, attempts, log lines, reason).
 * Source: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary
 */
export function summaryMarkdown(result: RunResult, verdict: string): string {
  const lines = [`### kubestep: ${markdownText(verdict)}`, ''];
  if (result.jobs.length > 0) {
    lines.push(
      '| Job | Result | Duration | Attempts | Log lines | Reason |',
      '|---|---|---|---|---|---|',
    );
    for (const j of result.jobs) {
      const duration = j.durationMs === null ? '' : formatDuration(j.durationMs);
      lines.push(
        `| \`${j.namespace}/${j.name}\` | ${ICON[j.outcome]} ${j.outcome} | ${duration} | ${j.attempts} | ${logLinesCell(j)} | ${codeCell(j.explanation)} |`,
      );
    }
    lines.push('');
  }
  lines.push(...testsMarkdown(result.jobs));
  lines.push(`Run \`${result.runId}\`, exit code ${result.exitCode}.`, '');
  return lines.join('\n');
}

/** At most this many failed test cases in the step summary (the result file has them all). */
const SUMMARY_FAILED_CASES = 20;

/** The JUnit counts per Job and the first failed cases, as Markdown; nothing without reports. */
function testsMarkdown(jobs: RunResult['jobs']): string[] {
  const withTests = jobs.filter((j) => j.tests);
  if (withTests.length === 0) return [];
  const lines = [
    '| Job | Tests | Failed | Errors | Skipped | Time |',
    '|---|---|---|---|---|---|',
    ...withTests.map((j) => {
      const t = j.tests!;
      return `| \`${j.namespace}/${j.name}\` | ${t.tests} | ${t.failures} | ${t.errors} | ${t.skipped} | ${formatDuration(t.timeSeconds * 1000)} |`;
    }),
    '',
  ];
  const failed = withTests.flatMap((j) => j.tests!.failed.map((c) => ({ job: j.name, c })));
  for (const { job, c } of failed.slice(0, SUMMARY_FAILED_CASES)) {
    const where = c.file ? ` at ${codeCell(`${c.file}${c.line ? `:${c.line}` : ''}`)}` : '';
    lines.push(
      `- ❌ ${codeCell(`${job}: ${c.suite} › ${c.name}`)}${where}: ${codeCell(c.message.split('\n')[0]!.slice(0, 200))}`,
    );
  }
  if (failed.length > SUMMARY_FAILED_CASES)
    lines.push(`- … and ${failed.length - SUMMARY_FAILED_CASES} more (the result file lists them)`);
  if (failed.length > 0) lines.push('');
  return lines;
}

/**
 * `result` as the result file holds it: without the JUnit test cases (`jobs[].tests.cases`, which
 * only `--junit-report` carries: thousands of cases would swell the file and the action's output).
 */
export function resultFile(result: RunResult): RunResult {
  return {
    ...result,
    jobs: result.jobs.map((j) => {
      if (!j.tests) return j;
      const tests = { ...j.tests };
      delete tests.cases;
      return { ...j, tests };
    }),
  };
}

/** The last line of a command that followed Jobs: `PASSED: …`, `FAILED: …`, `ERROR: …`, `CANCELLED by …`. */
export function verdict(o: Outcome): string {
  switch (o.kind) {
    case 'succeeded':
      // Without Jobs (a dry run) the message is the verdict.
      if (o.jobs.length === 0 && o.message) return o.message;
      return `PASSED: ${o.jobs.length === 1 ? 'the Job is' : `all ${o.jobs.length} Jobs are`} Complete`;
    case 'failed':
    case 'timed-out':
      return `FAILED: ${o.message}`;
    case 'infra-error':
    case 'bad-input':
      return `ERROR: ${o.message}`;
    case 'cancelled':
      return `CANCELLED by ${o.signal}`;
  }
}
