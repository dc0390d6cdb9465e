// `kubestep run`, `up` and `down`: flags in, exit code out. Wiring only: the work is in run/.
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { InputError, RunTimeoutError, UsageError, messageOf } from '../core/errors.js';
import { DONE, outcomeOfError, type Outcome } from '../core/outcome.js';
import type { Output } from '../core/output.js';
import { startCloudLogging, type CloudFlags } from './cloud.js';
import { DEFAULT_RETRY, KubeClient } from '../kube/client.js';
import type { StuckGraces } from '../pods/problems.js';
import { resolveClusterAccess, type ClusterAccess, type ClusterFlags } from '../kube/config.js';
import { describeNetworkError } from '../kube/errors.js';
import { backstopSeconds, toDependencies, type Dependency } from '../manifests/deps.js';
import { toTestJobs, type TestJob } from '../manifests/jobs.js';
import {
  indexedMisfit,
  indexedProbe,
  indexedSupported,
  shardCount,
  shardJobs,
} from '../manifests/shards.js';
import { bringDown, bringUp, runAll } from '../run/run.js';
import type { CleanupPolicy } from '../run/teardown.js';
import { readManifests, type ManifestSource } from '../manifests/parse.js';
import { resolveRunId } from '../manifests/run-id.js';
import { variableLookup } from '../manifests/substitute.js';
import { outputMode } from '../report/ci.js';
import { createConsoleOutput } from '../report/console.js';
import {
  resultFile,
  runResult,
  summaryMarkdown,
  verdict,
  type RunResult,
} from '../report/result.js';
import { junitReport } from '../report/junit.js';
import { withArtifacts } from '../artifacts/inject.js';
import type { JUnitPattern } from '../artifacts/junit.js';
import { redactDeep, redactor, secretValuesOf, type Redact } from '../report/secrets.js';
import { JOBS, SECRETS } from '../kube/resources.js';
import { needsPrefix } from '../report/log-format.js';
import { formatDuration } from '../core/format.js';
import { formatSummary } from '../jobs/summary.js';

/** How to reach the cluster and how to behave towards it; shared by all commands. */
export interface ClusterOptions extends ClusterFlags {
  /** How long deleting objects may take, ms (--grace). */
  graceMs: number;
  /** Retry budget for transient API failures, ms. */
  apiTimeoutMs: number;
  verbose: boolean;
}

/** Variables for `${NAME}` in manifests: --set and --set-secret. */
export interface ManifestOptions {
  /** Dependency manifests (--deps). */
  deps: string[];
  set: Record<string, string>;
  /** Like `set`, but the values are hidden in all output (--set-secret). */
  setSecret: Record<string, string>;
  /** Environment variables `${NAME}` may read although their names look like credentials (--env). */
  allowEnv: string[];
  runId?: string | undefined;
  /** Fields the API server drops are a warning, not exit 2 (--allow-dropped-fields). */
  allowDroppedFields?: boolean;
  /** --dry-run: check everything up to the first create, then report; change nothing. */
  dryRun?: boolean;
}

/** Typed options of `kubestep run`. */
export interface RunOptions
  extends
    ClusterOptions,
    StuckOptions,
    SidecarOptions,
    ArtifactsOptions,
    ManifestOptions,
    CloudFlags {
  files: string[];
  /** --shards: each Job as this many Jobs (manifests/shards.ts); the annotation overrides it. */
  shards?: number | undefined;
  runId?: string | undefined;
  replace: boolean;
  timeoutMs: number;
  cleanup: CleanupPolicy;
  /** How long the dependencies may take to become ready, ms. */
  depsTimeoutMs: number;
  /** Write the result as JSON to this file (--output json). */
  outputFile?: string | undefined;
  /** Write the run as JUnit XML to this file (--junit-report). */
  junitReport?: string | undefined;
  /** Sweep leftovers of earlier runs of the same manifests first (--no-sweep: false). */
  sweep: boolean;
  /** Heartbeat lease, s: other runs treat this one as killed this long after its last renewal. */
  leaseSeconds: number;
}

/** How long pods may stay stuck: the --*-grace flags. */
export interface StuckOptions {
  graces: StuckGraces;
}

/** The test pods' regular containers that are sidecars (--sidecar). */
export interface SidecarOptions {
  sidecars?: string[] | undefined;
}

/**
 * --artifacts: where the test pods' files go, at most how much per pod, the collector image;
 * `withoutArtifacts` (--outputs without --artifacts): only `$KUBESTEP_OUTPUT`, through a temporary `dir`.
 */
export interface ArtifactsOptions {
  artifacts?:
    | {
        dir: string;
        maxBytes: number;
        image: string;
        failOnTestFailures?: boolean;
        withoutArtifacts?: boolean;
        /** --junit patterns (absolute ones: directories mounted in the test containers). */
        junit?: JUnitPattern[];
      }
    | undefined;
}

/** Typed options of `kubestep up`. */
export interface UpOptions extends ClusterOptions, StuckOptions, ManifestOptions {
  replace: boolean;
  depsTimeoutMs: number;
  /** After this the cluster deletes the dependencies even without `down`, ms. */
  lifetimeMs: number;
  /** Sweep leftovers of earlier runs of the same manifests first. */
  sweep: boolean;
}

/** Typed options of `kubestep down`. */
export interface DownOptions extends ClusterOptions {
  runId?: string | undefined;
}

/** The process's streams and environment, injected. */
export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  /** The terminal's width for --help, when stdout is one. */
  columns?: number | undefined;
}

/** Manifests read and rendered, and the run id. */
interface Prepared {
  runId: string;
  from: string;
  access: ClusterAccess;
  jobs: TestJob[];
  /** The test Jobs before sharding (--shards, kubestep.dev/shards): {@link shardMode} may redo it. */
  unsharded: TestJob[];
  dependencies: Dependency[];
  /** Values to hide in all output: --set-secret values and the data of Secret manifests. */
  secrets: string[];
}

async function prepare(
  opts: ClusterOptions &
    ManifestOptions & { files: string[]; unique?: boolean; shards?: number | undefined },
  io: Io,
  podDeadlineSeconds: number | undefined,
  signal: AbortSignal,
  onRunId: (runId: string) => void = () => {},
): Promise<Prepared> {
  if ([...opts.files, ...opts.deps].filter((f) => f === '-').length > 1)
    throw new InputError('- (stdin) may be given only once among -f and --deps');
  const [sources, depSources] = await Promise.all([
    readSources(opts.files, io.stdin),
    readSources(opts.deps, io.stdin),
  ]);
  const { runId, from } = resolveRunId({
    flag: opts.runId,
    env: io.env,
    random: () => randomBytes(4).toString('hex'),
    unique: opts.unique,
  });
  onRunId(runId);
  const lookup = variableLookup({
    runId,
    vars: { ...opts.set, ...opts.setSecret },
    env: io.env,
    allowEnv: new Set(opts.allowEnv),
  });
  // Every problem at once: the variables' and YAML's, then the validation's of both kinds.
  const parsed = readManifests(sources, lookup);
  const depParsed = readManifests(depSources, lookup);
  const docs = parsed.docs;
  const depDocs = depParsed.docs;
  const early = [...parsed.problems, ...depParsed.problems];
  const access = await resolveClusterAccess(opts, io.env, signal).catch((err: unknown) => {
    // The manifests' problems first: they are the user's to fix before any cluster matters.
    throw early.length > 0 ? new InputError(early.join('\n')) : err;
  });
  const place = {
    namespace: access.namespace,
    namespaceIsExplicit: access.namespaceIsExplicit,
    runId,
  };
  // Report the problems of both kinds of manifests at once.
  const problems: string[] = [...early];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(err.message);
      return undefined;
    }
  };
  const unsharded = opts.files.length > 0 ? attempt(() => toTestJobs(docs, place)) : [];
  const jobs = unsharded && attempt(() => shardJobs(unsharded, opts.shards));
  const dependencies = attempt(() => toDependencies(depDocs, { ...place, podDeadlineSeconds }));
  if (problems.length > 0 || !jobs || !unsharded || !dependencies)
    throw new InputError(problems.join('\n'));
  const secrets = [
    ...Object.values(opts.setSecret),
    ...dependencies
      .filter((d) => d.res === SECRETS)
      .flatMap((d) => secretValuesOf(d.object as Parameters<typeof secretValuesOf>[0])),
  ];
  return { runId, from, access, jobs, unsharded, dependencies, secrets };
}

/**
 * The test Jobs with their shards as one Indexed Job each where the cluster keeps
 * `completionMode: Indexed` and `backoffLimitPerIndex` in a dry run (1.29+; one request, only
 * when something is sharded) and the Job fits (manifests/shards.ts indexedMisfit); else `p.jobs`,
 * N Jobs per sharded Job. Says which, and why not.
 */
async function shardMode(
  p: Prepared,
  shards: number | undefined,
  { client, out }: { client: KubeClient; out: Output },
  signal: AbortSignal,
): Promise<TestJob[]> {
  const sharded = p.unsharded.filter((j) => Number(shardCount(j.job, shards)) > 1);
  if (sharded.length === 0) return p.jobs;
  const ns = sharded[0]!.namespace;
  let probeFailed: string | undefined;
  const supported = await client
    .create(JOBS, ns, indexedProbe(ns), signal, { dryRun: true })
    .then(indexedSupported, (err: unknown) => {
      if (signal.aborted) throw err;
      probeFailed = messageOf(err);
      return false;
    });
  if (!supported) {
    const why = probeFailed
      ? `the dry run of an Indexed Job that tells whether this cluster keeps backoffLimitPerIndex (Kubernetes 1.29+, which per-shard retries need) failed: ${probeFailed}`
      : `this cluster does not keep backoffLimitPerIndex in an Indexed Job (Kubernetes 1.29+), which per-shard retries need`;
    out.info(`shards run as one Job each: ${why}`);
    return p.jobs;
  }
  for (const j of sharded) {
    const why = indexedMisfit(j.job);
    out.info(
      why
        ? `job/${j.name}: its shards run as one Job each (${why})`
        : `job/${j.name}: its ${shardCount(j.job, shards)} shards run as one Indexed Job (backoffLimitPerIndex)`,
    );
  }
  return shardJobs(p.unsharded, shards, 'indexed');
}

/**
 * The console output (mode from the environment, secrets masked) and a KubeClient for `access`
 * whose retries are logged at debug level; `prefix` puts `pod/container` before log lines.
 */
export function connect(
  access: ClusterAccess,
  opts: ClusterOptions,
  io: Io,
  prefix: boolean,
  secrets: readonly string[],
  redact: Redact = redactor(secrets),
): { client: KubeClient; out: Output } {
  const out = createConsoleOutput({
    stdout: io.stdout,
    stderr: io.stderr,
    ...outputMode(io.env, (io.stderr as { isTTY?: boolean }).isTTY === true),
    prefix,
    verbose: opts.verbose,
    redact,
    masks: secrets,
    now: Date.now,
  });
  const client = new KubeClient(
    access.kubeConfig,
    { ...DEFAULT_RETRY, maxRetryTimeMs: opts.apiTimeoutMs },
    (what, err, delayMs) =>
      out.debug(`${what} failed (${describeNetworkError(err)}); retrying in ${delayMs} ms`),
    access.token,
  );
  return { client, out };
}

/** `1 Job`, `2 Jobs`. */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * The test Jobs, each with the artifacts collector when --artifacts is given (README: Artifacts):
 * the collector ends by itself --timeout + --grace + 60 s after it starts, so that a killed
 * kubestep does not keep the pods running.
 */
function withCollectors(jobs: TestJob[], opts: RunOptions): TestJob[] {
  const a = opts.artifacts;
  if (!a) return jobs;
  const deadlineSeconds = Math.ceil((opts.timeoutMs + opts.graceMs) / 1000) + 60;
  // kubestep reads it back from the pods (a Job adopted from an earlier attempt has its own).
  const token = randomBytes(16).toString('hex');
  const { withoutArtifacts, junit } = a;
  return jobs.map((j) => ({
    ...j,
    job: withArtifacts(j.job, { image: a.image, deadlineSeconds, token, withoutArtifacts, junit }),
  }));
}

/**
 * Runs `kubestep run` and returns its outcome: succeeded (all Jobs Complete), failed (a Job Failed),
 * timed-out, infra-error (a pod cannot start, a dependency failed), cancelled. Throws
 * UsageError/InputError and InfraError or KubeApiError for runs that ended before an outcome;
 * the caller maps those with outcomeOfError. Either way the result goes to `opts.outputFile` and,
 * in GitHub Actions, to `$GITHUB_STEP_SUMMARY`.
 */
export async function runCommand(opts: RunOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  return reported(
    {
      outputFile: opts.outputFile,
      junitReport: opts.junitReport,
      runId: opts.runId,
      secrets: Object.values(opts.setSecret),
    },
    io,
    signal,
    (report) => run(opts, io, signal, report),
  );
}

/** What a command tells {@link reported} as it goes. */
export interface Report {
  runId: string;
  redact: Redact;
  out?: Output;
}

/**
 * Runs `body` and, however it ends, writes the result of its outcome (of a thrown error: the
 * outcome {@link outcomeOfError} gives it under `signal`): to `opts.outputFile` (--output json)
 * and, in GitHub Actions, to `$GITHUB_STEP_SUMMARY`, with `opts.secrets` (and what `body` adds to
 * `report.redact`) hidden, also in the message of an error it throws. Returns `body`'s outcome;
 * rethrows its error for the caller to print and map. Used by `run` and `wait`.
 */
export async function reported(
  opts: ReportFiles & { runId?: string | undefined; secrets: string[] },
  io: Io,
  signal: AbortSignal,
  body: (report: Report) => Promise<Outcome>,
): Promise<Outcome> {
  const startedAtMs = Date.now();
  const report: Report = { runId: opts.runId ?? '', redact: redactor(opts.secrets) };
  let outcome: Outcome;
  let failure: { error: unknown } | undefined;
  try {
    outcome = await body(report);
  } catch (err) {
    // Errors are printed by the caller: secrets out of their messages.
    if (err instanceof Error) err.message = report.redact(err.message);
    outcome = outcomeOfError(err, signal);
    failure = { error: err };
  }
  const result = runResult({
    runId: report.runId,
    outcome,
    startedAtMs,
    finishedAtMs: Date.now(),
  });
  await writeReports(opts, io, result, verdict(outcome), report.redact).catch((err: unknown) => {
    const line = `warning: could not write the result: ${messageOf(err)}`;
    if (report.out) report.out.warn(line.slice(9));
    else io.stderr.write(`kubestep: ${line}\n`);
  });
  report.out?.close();
  if (failure) throw failure.error;
  return outcome;
}

/** Where a command writes its result besides the console (--output-file, --junit-report). */
export interface ReportFiles {
  outputFile?: string | undefined;
  junitReport?: string | undefined;
}

/** `--output json`, `--junit-report` and GitHub's step summary; secrets hidden. */
async function writeReports(
  opts: ReportFiles,
  io: Io,
  result: RunResult,
  verdictLine: string,
  redact: Redact,
): Promise<void> {
  // Redacted before serialising: JSON and Markdown escape characters a secret may hold.
  const safe = redactDeep(result, redact);
  if (opts.outputFile) {
    await writeFile(opts.outputFile, JSON.stringify(resultFile(safe), null, 2) + '\n');
  }
  if (opts.junitReport) await writeFile(opts.junitReport, junitReport(safe));
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (io.env.GITHUB_ACTIONS === 'true' && summaryFile) {
    await appendFile(summaryFile, summaryMarkdown(safe, redact(verdictLine)));
  }
}

async function run(
  opts: RunOptions,
  io: Io,
  signal: AbortSignal,
  report: Report,
): Promise<Outcome> {
  const backstop = backstopSeconds({
    depsTimeoutMs: opts.deps.length > 0 ? opts.depsTimeoutMs : 0,
    timeoutMs: opts.timeoutMs,
    graceMs: opts.graceMs,
  });
  // Kept dependency Pods (--cleanup never, on-success) get no deadline: they are kept to be looked at.
  const podDeadline = opts.cleanup === 'always' ? backstop : undefined;
  // Unique per process unless --run-id: parallel steps of one build never share a run.
  const p = await prepare(
    { ...opts, unique: true },
    io,
    podDeadline,
    signal,
    (id) => (report.runId = id),
  );
  report.redact = redactor(p.secrets);
  const { client, out } = connect(
    p.access,
    opts,
    io,
    needsPrefix(p.jobs),
    p.secrets,
    report.redact,
  );
  report.out = out;
  p.jobs = await shardMode(p, opts.shards, { client, out }, signal);
  const depsNote = p.dependencies.length
    ? `, ${plural(p.dependencies.length, 'dependency', 'dependencies')}`
    : '';
  out.info(
    `run ${p.runId} (id from ${p.from}); ${plural(p.jobs.length, 'Job')}${depsNote}; ${p.access.server} (${p.access.source})`,
  );

  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new RunTimeoutError(opts.timeoutMs)),
    opts.timeoutMs,
  );
  const cloud = await startCloudLogging(opts, out, {
    runId: p.runId,
    cluster: p.access.cluster,
    env: io.env,
    redact: report.redact,
  });
  let flushed = false;
  try {
    const outcome = await runAll(
      { client, out, now: Date.now },
      {
        runId: p.runId,
        jobs: withCollectors(p.jobs, opts),
        dependencies: p.dependencies,
        replace: opts.replace,
        allowDroppedFields: opts.allowDroppedFields ?? false,
        cleanup: opts.cleanup,
        graceMs: opts.graceMs,
        drainMs: 30_000,
        depsTimeoutMs: opts.depsTimeoutMs,
        backstopSeconds: backstop,
        leaseSeconds: opts.leaseSeconds,
        sweep: opts.sweep,
        dryRun: opts.dryRun,
        graces: opts.graces,
        sidecars: opts.sidecars,
        artifacts: opts.artifacts,
        holder: `${hostname()}/${randomBytes(4).toString('hex')}`,
      },
      AbortSignal.any([signal, timeout.signal]),
    );
    if (outcome.jobs.length > 0) {
      for (const line of ['summary:', ...formatSummary(outcome.jobs).map((l) => `  ${l}`)])
        out.info(line);
    }
    flushed = true;
    await cloud?.finish(outcome.jobs, opts.graceMs);
    out.result(outcome.kind === 'succeeded', verdict(outcome));
    return outcome;
  } finally {
    clearTimeout(timer);
    if (!flushed) await cloud?.finish(undefined, opts.graceMs);
    await client.close().catch(() => undefined);
  }
}

/**
 * Runs `kubestep up`: creates the dependencies, waits until they are ready and leaves them
 * running. Returns `succeeded` when they are ready, `cancelled` (after deleting them); throws
 * like {@link runCommand}.
 */
export async function upCommand(opts: UpOptions, io: Io, signal: AbortSignal): Promise<Outcome> {
  // --set-secret values first; once the manifests are read, the data of Secret documents too.
  const hide = { redact: redactor(Object.values(opts.setSecret)) };
  try {
    return await up(opts, io, signal, hide);
  } catch (err) {
    // Errors are printed by the caller: secrets out of their messages.
    if (err instanceof Error) err.message = hide.redact(err.message);
    throw err;
  }
}

async function up(
  opts: UpOptions,
  io: Io,
  signal: AbortSignal,
  hide: { redact: Redact },
): Promise<Outcome> {
  const lifetime = Math.ceil(opts.lifetimeMs / 1000);
  const p = await prepare({ ...opts, files: [] }, io, lifetime, signal);
  hide.redact = redactor(p.secrets);
  if (p.dependencies.length === 0) {
    throw new InputError('the --deps manifests hold no documents: give at least one dependency');
  }
  const { client, out } = connect(p.access, opts, io, false, p.secrets, hide.redact);
  out.info(
    `run ${p.runId} (id from ${p.from}); ${plural(p.dependencies.length, 'dependency', 'dependencies')}; ${p.access.server} (${p.access.source})`,
  );
  try {
    const cancelled = await bringUp(
      { client, out, now: Date.now },
      {
        runId: p.runId,
        dependencies: p.dependencies,
        replace: opts.replace,
        allowDroppedFields: opts.allowDroppedFields ?? false,
        graceMs: opts.graceMs,
        depsTimeoutMs: opts.depsTimeoutMs,
        lifetimeSeconds: lifetime,
        graces: opts.graces,
        sweep: opts.sweep,
        dryRun: opts.dryRun,
      },
      signal,
    );
    if (cancelled) {
      // A dry run's report, or a cancellation.
      out.result(cancelled.kind === 'succeeded', verdict(cancelled));
      return cancelled;
    }
    const namespaces = [...new Set(p.dependencies.map((d) => d.namespace))];
    out.info(
      `UP: run ${p.runId}; delete with: ${namespaces.map((ns) => `kubestep down --run-id ${p.runId} -n ${ns}`).join(' && ')} (the cluster deletes them after ${formatDuration(opts.lifetimeMs)} anyway)`,
    );
    io.stdout.write(`${p.runId}\n`);
    return DONE;
  } finally {
    out.close();
    await client.close().catch(() => undefined);
  }
}

/**
 * Runs `kubestep down`: deletes everything of the run (by its labels) in the namespace. Returns
 * `succeeded`, also when nothing was there; throws InfraError (exit 3) when objects remain after
 * --grace.
 */
export async function downCommand(
  opts: DownOptions,
  io: Io,
  signal: AbortSignal,
): Promise<Outcome> {
  const { runId } = resolveRunId({
    flag: opts.runId,
    env: io.env,
    random: () => {
      throw new UsageError(
        'down needs the run id: pass --run-id (as printed by kubestep up), or set BUILD_ID or GITHUB_RUN_ID as in the step that ran up',
      );
    },
  });
  const access = await resolveClusterAccess(opts, io.env, signal);
  const { client, out } = connect(access, opts, io, false, []);
  try {
    const { deleted, stillDeleting } = await bringDown(
      { client, out, now: Date.now },
      { runId, namespace: access.namespace, graceMs: opts.graceMs },
      signal,
    );
    if (stillDeleting) {
      out.warn(
        `some objects were still terminating after --grace ${formatDuration(opts.graceMs)}; the cluster finishes deleting them`,
      );
    }
    out.info(
      deleted.length === 0
        ? `nothing of run ${runId} in namespace ${access.namespace}`
        : `DOWN: deleted ${plural(deleted.length, 'object')} of run ${runId} in namespace ${access.namespace}`,
    );
    return DONE;
  } finally {
    out.close();
    await client.close().catch(() => undefined);
  }
}

/** The text of each manifest file (`-`: standard input). Throws InputError naming a file that cannot be read. */
export async function readSources(files: string[], stdin: Readable): Promise<ManifestSource[]> {
  return Promise.all(
    files.map(async (f) => {
      try {
        if (f === '-') return { name: '<stdin>', text: await text(stdin) };
        return { name: f, text: await readFile(f, 'utf8') };
      } catch (err) {
        const code = (err as { code?: string }).code;
        const why =
          code === 'ENOENT'
            ? 'no such file'
            : code === 'EACCES'
              ? 'permission denied'
              : code === 'EISDIR'
                ? 'is a directory'
                : messageOf(err);
        throw new InputError(`cannot read manifest ${f}: ${why}`, { cause: err });
      }
    }),
  );
}
