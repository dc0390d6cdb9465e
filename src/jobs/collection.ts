// Artifacts of a run's test pods (`--artifacts DIR`): the collector's log lines go to a receiver
// per pod instead of the CI log; Jobs that kubestep decided (their collector keeps the pods
// running) are told to stop their pods, so that the collectors send; then what arrived is reported.
// Imperative shell; artifacts/ holds the transfer itself.
import { join } from 'node:path';
import { messageOf } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { mergedOutputs, type JobSummary, type Outcome } from '../core/outcome.js';
import { withOutputs, withTests } from './summary.js';
import type { LogSink, LogSource, Output } from '../core/output.js';
import { JOBS } from '../kube/resources.js';
import type { Job } from '../kube/types.js';
import type { World } from '../kube/world.js';
import { COLLECTOR } from '../pods/sidecars.js';
import { ArtifactReceiver, type Received } from '../artifacts/receive.js';
import { emptyReport, mergeReports, parseJUnit, type TestReport } from '../artifacts/junit.js';
import { MAX_OUTPUT_BYTES, OUTPUT_FILE, parseOutputs } from '../artifacts/outputs.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';

/** Where artifacts go and how much of them. */
export interface ArtifactsPlan {
  /** DIR: each pod's files arrive under DIR/<job>/<pod>/. */
  dir: string;
  /** --artifacts-max-size, bytes per pod. */
  maxBytes: number;
  /** --fail-on-test-failures: a Complete Job whose JUnit reports failures has failed. */
  failOnTestFailures?: boolean | undefined;
}

/** At most this many failed test cases become annotations (GitHub Actions) per run. */
const MAX_ANNOTATIONS = 50;

/**
 * Each failed test case of `jobs` as an annotation (the first {@link MAX_ANNOTATIONS}, then a
 * count): GitHub shows them on the run and, with `file` and `line`, in the code.
 */
export function annotateTests(out: Output, jobs: readonly JobSummary[]): void {
  const cases = jobs.flatMap((j) => j.tests?.failed ?? []);
  for (const c of cases.slice(0, MAX_ANNOTATIONS)) {
    out.testFailure({
      title: `${c.suite} › ${c.name}`,
      message: c.details ? `${c.message}\n${c.details}` : c.message,
      file: c.file,
      line: c.line,
    });
  }
  if (cases.length > MAX_ANNOTATIONS)
    out.info(
      `… and ${cases.length - MAX_ANNOTATIONS} more failed test cases (the result file lists them)`,
    );
}

/** The artifacts of one run's pods. */
export class Collection {
  private readonly receivers = new Map<string, ArtifactReceiver>();
  private received: Received[] = [];

  constructor(
    private readonly world: World,
    private readonly plan: ArtifactsPlan,
  ) {}

  /** `inner` with the collector containers' lines taken out and received as artifacts. */
  sink(inner: LogSink): LogSink {
    return {
      write: (source: LogSource, lines: string[]) =>
        source.container === COLLECTOR
          ? this.receiver(source).write(lines)
          : inner.write(source, lines),
      note: (source, message) => {
        if (source.container !== COLLECTOR) inner.note(source, message);
        else this.world.out.debug(`artifacts of pod/${source.pod}: ${message}`);
      },
      debug: (source, message) => inner.debug(source, message),
    };
  }

  /**
   * Stops the pods of Jobs that kubestep decided from their main containers (the collector keeps
   * them running): `parallelism: 0` makes the Job controller delete them without replacing them,
   * each collector then sends within its pod's terminationGracePeriodSeconds.
   * Source: https://kubernetes.io/docs/concepts/workloads/controllers/job/#controlling-parallelism
   */
  async stop(jobs: readonly Job[], signal: AbortSignal): Promise<void> {
    for (const job of jobs) {
      const name = job.metadata?.name ?? '';
      try {
        await this.world.client.patch(
          JOBS,
          job.metadata?.namespace ?? '',
          name,
          { spec: { parallelism: 0 } },
          signal,
        );
      } catch (err) {
        this.world.out.warn(
          `artifacts: could not stop the pods of job/${name} (${messageOf(err)}): their artifacts may be missing`,
        );
      }
    }
  }

  /** Reports what arrived from each pod (files, bytes, where; what was refused or cut). */
  async report(): Promise<Received[]> {
    const all: Received[] = [];
    for (const [pod, r] of this.receivers) {
      const got = await r.finish();
      all.push(got);
      this.received.push(got);
      const { out } = this.world;
      out.info(
        `artifacts of pod/${pod}: ${got.files} ${got.files === 1 ? 'file' : 'files'}, ${formatBytes(got.bytes)} in ${got.dir}`,
      );
      for (const p of got.problems) out.warn(`artifacts of pod/${pod}: ${p}`);
    }
    return all;
  }

  /**
   * `outcome` with what the artifacts tell: each Job's JUnit report (annotated; with
   * --fail-on-test-failures a Complete Job with failed cases fails) and its `$KUBESTEP_OUTPUT`
   * values (printed). Call after {@link report}.
   */
  async apply(outcome: Outcome): Promise<Outcome> {
    const { out } = this.world;
    let o = withTests(outcome, await this.testReports(), this.plan.failOnTestFailures ?? false);
    annotateTests(out, o.jobs);
    o = withOutputs(o, await this.outputs());
    for (const [name, value] of Object.entries(mergedOutputs(o.jobs))) {
      const short = value.length <= 200 && !value.includes('\n');
      const first = value.split('\n')[0]!.slice(0, 200);
      out.info(`output ${name}=${short ? value : `${first}… (${value.length} characters)`}`);
    }
    return o;
  }

  /**
   * The JUnit reports among the artifacts that arrived whole (`*.xml` files whose root is
   * `<testsuites>` or `<testsuite>`, at most 50 MiB each), merged per Job name. Call after
   * {@link report}.
   */
  async testReports(): Promise<Map<string, TestReport>> {
    const byJob = new Map<string, TestReport>();
    for (const got of this.received.filter((r) => r.complete)) {
      const job = relative(this.plan.dir, got.dir).split(sep)[0] ?? '';
      for (const file of await xmlFiles(got.dir)) {
        const parsed = parseJUnit(await readFile(file, 'utf8'), relative(this.plan.dir, file));
        if (parsed) byJob.set(job, mergeReports(byJob.get(job) ?? emptyReport(), parsed));
      }
    }
    return byJob;
  }

  /**
   * The values the pods wrote to `$KUBESTEP_OUTPUT`, merged per Job name in the order the pods
   * were received (a later value of a name wins); problems of a file are warnings. Call after
   * {@link report}.
   */
  async outputs(): Promise<Map<string, Record<string, string>>> {
    const byJob = new Map<string, Record<string, string>>();
    for (const got of this.received.filter((r) => r.complete)) {
      const file = join(got.dir, OUTPUT_FILE);
      const size = await stat(file).then(
        (s) => s.size,
        () => undefined,
      );
      if (size === undefined) continue;
      const pod = relative(this.plan.dir, got.dir);
      if (size > MAX_OUTPUT_BYTES) {
        this.world.out.warn(`outputs of ${pod}: ${OUTPUT_FILE} is larger than 1 MiB: not read`);
        continue;
      }
      const { values, problems } = parseOutputs(await readFile(file, 'utf8'));
      for (const p of problems) this.world.out.warn(`outputs of ${pod}: ${OUTPUT_FILE} ${p}`);
      const job = pod.split(sep)[0] ?? '';
      byJob.set(job, { ...byJob.get(job), ...values });
    }
    return byJob;
  }

  private receiver(source: LogSource): ArtifactReceiver {
    let r = this.receivers.get(source.pod);
    if (!r) {
      r = new ArtifactReceiver(
        join(this.plan.dir, source.job ?? '_', source.pod),
        this.plan.maxBytes,
      );
      this.receivers.set(source.pod, r);
    }
    return r;
  }
}

/** The `*.xml` files under `dir` of at most 50 MiB, in name order. */
async function xmlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.xml'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const small: string[] = [];
  for (const f of files) if ((await stat(f)).size <= 50 * 1024 * 1024) small.push(f);
  return small;
}
