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
import { controllerOf } from '../kube/selectors.js';
import type { Job, Pod } from '../kube/types.js';
import type { World } from '../kube/world.js';
import { COLLECTOR, hasCollector } from '../pods/sidecars.js';
import { canI } from '../kube/can-i.js';
import { KubeApiError } from '../kube/errors.js';
import pRetry from 'p-retry';
import { collectorEndpoint, TOKEN_HEADER } from '../artifacts/inject.js';
import { unreadableNote } from '../artifacts/collect.js';
import { ArtifactReceiver, type Received } from '../artifacts/receive.js';
import {
  emptyReport,
  matchesJUnitPattern,
  mergeReports,
  parseJUnit,
  type JUnitPattern,
  type TestReport,
} from '../artifacts/junit.js';
import { MAX_OUTPUT_BYTES, OUTPUT_FILE, parseOutputs } from '../artifacts/outputs.js';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { relative, sep } from 'node:path';
import { text } from 'node:stream/consumers';

/** Where artifacts go and how much of them. */
export interface ArtifactsPlan {
  /** DIR: each pod's files arrive under DIR/<job>/<pod>/. */
  dir: string;
  /** --artifacts-max-size, bytes per pod. */
  maxBytes: number;
  /** --fail-on-test-failures: a Complete Job whose JUnit reports failures has failed. */
  failOnTestFailures?: boolean | undefined;
  /**
   * --outputs or --junit without --artifacts: only `$KUBESTEP_OUTPUT` and the --junit directories
   * are collected (into a scratch `dir`): no word per pod.
   */
  withoutArtifacts?: boolean | undefined;
  /** --junit patterns: reports beside the `*.xml` files. */
  junit?: readonly JUnitPattern[] | undefined;
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
  /** Whether get on pods/proxy is allowed, by namespace (the direct path). */
  private readonly proxyAllowed = new Map<string, Promise<boolean>>();
  /** Fetches through pods/proxy by pod name, and what each brought (undefined: the log path). */
  private readonly fetches = new Map<string, Promise<Received | undefined>>();
  private fetchFailed = false;
  /** Jobs whose pods have no collector, already named in a warning. */
  private readonly without = new Set<string>();

  constructor(
    private readonly world: World,
    private readonly plan: ArtifactsPlan,
    /** A directory of our own (--outputs alone), removed by {@link close}. */
    private readonly scratch?: string,
  ) {}

  /**
   * The collection for `plan`; with `withoutArtifacts`, into a scratch directory of its own (removed by
   * {@link close}).
   */
  static async open(world: World, plan: ArtifactsPlan): Promise<Collection> {
    if (!plan.withoutArtifacts) return new Collection(world, plan);
    const scratch = await mkdtemp(join(tmpdir(), 'kubestep-outputs-'));
    return new Collection(world, { ...plan, dir: scratch }, scratch);
  }

  /** Removes the scratch directory, if any. */
  async close(): Promise<void> {
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true });
  }

  /**
   * Warns, once per Job, when a pod of it has no collector container: its Job was not made with
   * --artifacts (`kubestep wait` follows Jobs as they were made), so nothing can come from it.
   */
  seen(pod: Pod): void {
    const job = controllerOf(pod, 'Job')?.name;
    if (!job || this.without.has(job)) return;
    if (hasCollector(pod)) return;
    this.without.add(job);
    this.world.out.warn(
      `job/${job} has no ${COLLECTOR} container, so no ${this.what()} can come from it: its pod template was not made for collection (README: Artifacts, with kubestep wait)`,
    );
  }

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
   * Asks once per namespace whether the credentials may `get pods/proxy` (the direct path) and
   * says what it means when they may not. Call before the Jobs are created.
   */
  async prepare(namespaces: Iterable<string>, signal: AbortSignal): Promise<void> {
    for (const ns of namespaces) {
      const allowed = canI(
        this.world.client,
        { namespace: ns, verb: 'get', group: '', resource: 'pods', subresource: 'proxy' },
        signal,
      ).then(
        (yes) => {
          // Outputs alone are small: the log carries them well.
          if (!yes && !this.plan.withoutArtifacts)
            this.world.out.info(
              `artifacts: get on pods/proxy is not allowed in namespace ${ns}, so they come through the collectors' logs, which carry about 5 MiB per pod reliably; grant it (deploy/rbac-optional.yaml) for the direct path`,
            );
          return yes;
        },
        // Unknown: try; a failed fetch falls back to the log.
        () => !signal.aborted,
      );
      this.proxyAllowed.set(ns, allowed);
      await allowed;
    }
  }

  /**
   * Fetches the artifacts of `pod`, whose main containers have ended while its collector runs,
   * through the API server (`GET pods/proxy`, the collector's port), and has the collector
   * confirm their size and SHA-256; the files then count as received and the collector sends
   * nothing through its log. A collector that does not listen yet (5xx from the proxy) is asked
   * again for about 10 s. Any failure leaves nothing behind and the log path takes over (said
   * once per run). Never throws; see {@link fetched}.
   */
  fetch(pod: Pod, signal: AbortSignal): void {
    const name = pod.metadata?.name ?? '';
    if (this.fetches.has(name)) return;
    this.fetches.set(name, this.fetchDirect(pod, signal));
  }

  /** Resolves once the fetch of `pod` (if any) has ended. */
  async fetched(pod: Pod): Promise<void> {
    await this.fetches.get(pod.metadata?.name ?? '');
  }

  /**
   * At --timeout: fetches, within `ms`, what the collectors of `pods` hold now (their tests may
   * still run; a file being written may be cut), through pods/proxy only (the log path needs the
   * pods stopped and followed), for pods whose artifacts have not arrived; then reports and
   * applies everything as {@link report} and {@link apply} do.
   */
  async atTimeout(pods: readonly Pod[], outcome: Outcome, ms: number): Promise<Outcome> {
    const signal = AbortSignal.timeout(ms);
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const before = this.fetches.get(name);
      this.fetches.set(
        name,
        (async () => (await before) ?? (await this.fetchDirect(pod, signal)))(),
      );
    }
    await this.fetchesEnded();
    await this.report();
    return this.apply(outcome);
  }

  /** Resolves once every fetch started so far has ended. */
  async fetchesEnded(): Promise<void> {
    await Promise.all(this.fetches.values());
  }

  private async fetchDirect(pod: Pod, signal: AbortSignal): Promise<Received | undefined> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    // A pod without the collector, or one an older kubestep made (no port), has no direct path.
    const endpoint = collectorEndpoint(pod);
    if (!endpoint) return undefined;
    const { port, token } = endpoint;
    if (!(await (this.proxyAllowed.get(ns) ?? Promise.resolve(true)))) return undefined;
    const { client, out } = this.world;
    const dir = join(this.plan.dir, controllerOf(pod, 'Job')?.name ?? '_', name);
    const receiver = new ArtifactReceiver(dir, this.plan.maxBytes);
    const headers = { [TOKEN_HEADER]: token };
    const started = Date.now();
    try {
      // The main containers may end before the collector listens (a test that takes
      // milliseconds): the API server then cannot reach the port (5xx) for a moment.
      const body = await pRetry(
        () => client.proxyGet(ns, name, port, '/artifacts.tar', headers, signal),
        {
          signal,
          retries: 8,
          minTimeout: 250,
          factor: 1.6,
          shouldRetry: ({ error }) => error instanceof KubeApiError && error.code >= 500,
          onFailedAttempt: ({ error, attemptNumber }) =>
            out.debug(`artifacts of pod/${name}: attempt ${attemptNumber}: ${messageOf(error)}`),
        },
      );
      const sent = await receiver.receiveTar(body);
      const query = `size=${sent.size}&sha256=${sent.sha256}`;
      const answer = await client.proxyGet(ns, name, port, `/done?${query}`, headers, signal);
      // `ok`, `uid N`, then the paths the collector could not read.
      const lines = (await text(answer)).split('\n');
      const left = lines.flatMap((l) =>
        l.startsWith('unreadable ') ? [JSON.parse(l.slice(11)) as string] : [],
      );
      const uid = Number(lines.find((l) => l.startsWith('uid '))?.slice(4));
      if (left.length > 0)
        receiver.note(unreadableNote(left, Number.isInteger(uid) ? uid : undefined));
      receiver.confirm(sent);
      const got = await receiver.finish();
      const ms = Date.now() - started;
      out.debug(
        `artifacts of pod/${name}: ${formatBytes(sent.size)} through pods/proxy in ${ms} ms`,
      );
      return got;
    } catch (err) {
      await receiver.discard();
      if (signal.aborted) return undefined;
      const say = this.fetchFailed ? out.debug.bind(out) : out.warn.bind(out);
      this.fetchFailed = true;
      say(
        `artifacts of pod/${name}: fetching them through the API server failed (${messageOf(err)}); they come through the collector's log`,
      );
      return undefined;
    }
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

  /**
   * Reports what arrived from each pod (files, bytes, where; what was refused or cut), fetched
   * directly or through its collector's log.
   */
  async report(): Promise<void> {
    const direct = new Map<string, Received>();
    for (const [pod, p] of this.fetches) {
      const got = await p;
      if (got) direct.set(pod, got);
    }
    const pods = new Set([...direct.keys(), ...this.receivers.keys()]);
    for (const pod of pods) {
      const got = direct.get(pod) ?? (await this.receivers.get(pod)!.finish());
      this.received.push(got);
      const { out } = this.world;
      const what = this.what();
      (this.plan.withoutArtifacts ? out.debug.bind(out) : out.info.bind(out))(
        `${what} of pod/${pod}: ${got.files} ${got.files === 1 ? 'file' : 'files'}, ${formatBytes(got.bytes)} in ${got.dir}`,
      );
      for (const p of got.problems) out.warn(`${what} of pod/${pod}: ${p}`);
    }
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
   * `<testsuites>` or `<testsuite>`, and the files the --junit patterns name; at most 50 MiB
   * each), merged per Job name; a pattern that named no file in any pod is a warning. Call after
   * {@link report}.
   */
  async testReports(): Promise<Map<string, TestReport>> {
    const byJob = new Map<string, TestReport>();
    const patterns = this.plan.junit ?? [];
    const used = new Set<number>();
    for (const got of this.received.filter((r) => r.complete)) {
      const job = relative(this.plan.dir, got.dir).split(sep)[0] ?? '';
      const named = (rel: string) => {
        const i = patterns.findIndex((p, k) => matchesJUnitPattern(rel, p, k));
        if (i >= 0) used.add(i);
        return i >= 0;
      };
      for (const { file, rel } of await reportFiles(got.dir, named)) {
        const parsed = parseJUnit(await readFile(file, 'utf8'), relative(this.plan.dir, file));
        if (parsed) byJob.set(job, mergeReports(byJob.get(job) ?? emptyReport(), parsed));
        else if (named(rel))
          this.world.out.warn(`${relative(this.plan.dir, file)}: not a JUnit XML report`);
      }
    }
    patterns.forEach((p, i) => {
      if (!used.has(i)) this.world.out.warn(`--junit ${p.pattern} named no file in any pod`);
    });
    return byJob;
  }

  /** What is collected, as messages call it. */
  private what(): string {
    if (!this.plan.withoutArtifacts) return 'artifacts';
    return this.plan.junit?.length ? 'reports' : 'outputs';
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

/**
 * The files under `dir` that may be JUnit reports: `*.xml`, and those `named` takes (by their
 * `/`-separated path relative to `dir`), of at most 50 MiB, in name order.
 */
async function reportFiles(
  dir: string,
  named: (rel: string) => boolean,
): Promise<{ file: string; rel: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => {
      const file = join(e.parentPath, e.name);
      return { file, rel: relative(dir, file).split(sep).join('/') };
    })
    .filter(({ file, rel }) => file.toLowerCase().endsWith('.xml') || named(rel))
    .sort((a, b) => a.rel.localeCompare(b.rel));
  const small: { file: string; rel: string }[] = [];
  for (const f of files) if ((await stat(f.file)).size <= 50 * 1024 * 1024) small.push(f);
  return small;
}
