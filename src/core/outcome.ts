// The one outcome: every way a command ends, with its reason and message. The exit code, the
// verdict line, the result file, the GitHub step summary and the action outputs all derive from
// it; exitCodeOf is the only place that turns it into an exit code. Pure.
import { CancelledError, InputError, messageOf, UsageError } from './errors.js';

/** How a Job ended, as far as kubestep knows. `Stuck`: a pod cannot start (see testPodProblem). */
export type JobResult = 'Complete' | 'Failed' | 'Stuck' | 'Running' | 'NotCreated';

/** One container of a pod, as the summary shows it. */
export interface ContainerSummary {
  name: string;
  init: boolean;
  /** A sidecar (native, named, or a known proxy): its end does not decide the pod's result. */
  sidecar?: boolean;
  /** e.g. `exit 0`, `exit 137 (OOMKilled)`, `waiting: ImagePullBackOff`, `running`. */
  state: string;
  exitCode?: number;
  reason?: string;
  restarts: number;
  /**
   * What the container wrote to its `terminationMessagePath` (the kubelet keeps at most 4 KiB),
   * when it ended and wrote any. Source:
   * https://kubernetes.io/docs/tasks/debug/debug-application/determine-reason-pod-failure/
   */
  terminationMessage?: string;
  /** Log lines mirrored (every instance of the container), when its log was followed. */
  logLines?: number;
  /** Log lines known to be missing (0: none); null when some are and their number is unknown. */
  logLinesLost?: number | null;
}

/** One pod (attempt) of a Job. */
export interface PodSummary {
  name: string;
  phase: string;
  /** Pod-level reason, e.g. `DeadlineExceeded`, `Evicted`. */
  reason?: string;
  /** Deleted by someone else before it ended. */
  deleted?: boolean;
  containers: ContainerSummary[];
}

/** A test case that failed (`<failure>`) or erred (`<error>`) in a JUnit report. */
export interface FailedCase {
  suite: string;
  name: string;
  kind: 'failure' | 'error';
  /** The failure's `message`, else its first line. */
  message: string;
  /** The first lines of the failure's text (at most 5 lines, 500 characters). */
  details?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
}

/** One test case of a JUnit report, as the merged report (`--junit-report`) carries it. */
export interface TestCase {
  suite: string;
  name: string;
  classname?: string | undefined;
  /** s */
  timeSeconds: number;
  result: 'passed' | 'skipped' | 'failure' | 'error';
  message?: string | undefined;
  details?: string | undefined;
  file?: string | undefined;
  line?: number | undefined;
}

/** What the JUnit reports of a Job's artifacts say, counted from their test cases. */
export interface TestReport {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  /** Sum of the test cases' `time`, s. */
  timeSeconds: number;
  /** Every failed or erred case, in report order. */
  failed: FailedCase[];
  /** The report files, relative to the artifacts directory (`<job>/<pod>/…`). */
  files: string[];
  /**
   * Every test case, in report order, for `--junit-report` (the first MAX_CASES of a Job; the
   * result file leaves them out).
   */
  cases?: TestCase[];
}

/** At most this many test cases per Job are kept for `--junit-report`. */
export const MAX_CASES = 20_000;

/** One Job's result for the summary and the exit code. */
export interface JobSummary {
  name: string;
  namespace: string;
  result: JobResult;
  /** The terminal condition's reason (`BackoffLimitExceeded`, `DeadlineExceeded`), or a stuck pod's. */
  reason?: string;
  message?: string;
  /** One sentence: why it ended so (Prow-style), e.g. `container main exited with code 2`. */
  explanation: string;
  /** Pods started, plus container restarts (`restartPolicy: OnFailure`). */
  attempts: number;
  /** What the JUnit reports among its artifacts say (`--artifacts`), when there are any. */
  tests?: TestReport;
  /** Values its pods wrote to `$KUBESTEP_OUTPUT` (`--artifacts`), when there are any. */
  outputs?: Record<string, string>;
  /** Exit codes of the containers of the last attempt that ended. */
  exitCodes: number[];
  /** ISO times: the Job's `status.startTime` and its terminal condition. */
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  pods: PodSummary[];
  /** A Job run as one Indexed Job of shards (`--shards`): each shard's result. */
  shards?: ShardSummary[];
}

/** One shard of an Indexed Job: its completion index, result, pods and time. */
export interface ShardSummary {
  index: number;
  result: 'Complete' | 'Failed' | 'Running';
  /** Pods of this index (retries included). */
  attempts: number;
  /** From its first pod's start to its last container's end, ms. */
  durationMs?: number;
}

/** The signals that cancel a command. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/**
 * Why a command ended so, for machines (the result file's `reason`): `Complete` (every Job),
 * `Done` (a command without Jobs did its work), `JobFailed`, `Timeout` (--timeout),
 * `PodCannotStart` (a stuck pod), `JobDeleted` (by someone else), `InfraError` (the cluster, its
 * API or a dependency failed), `UsageError`, `InputError`, `Cancelled` (SIGINT or SIGTERM).
 */
export type OutcomeReason =
  | 'Complete'
  | 'Done'
  | 'JobFailed'
  | 'RolloutFailed'
  | 'Timeout'
  | 'PodCannotStart'
  | 'JobDeleted'
  | 'InfraError'
  | 'UsageError'
  | 'InputError'
  | 'Cancelled';

/**
 * How a command ended. `jobs`: the Jobs it followed (empty for `up`, `down`, `gc` and for errors
 * before any Job existed). `early`: an error ended it before it had Jobs to report on (bad input,
 * no access, a dependency that never became ready); the result file calls that `error`.
 */
export type Outcome =
  | { kind: 'succeeded'; reason: 'Complete' | 'Done'; jobs: JobSummary[]; message?: string }
  | { kind: 'failed'; reason: 'JobFailed' | 'RolloutFailed'; jobs: JobSummary[]; message: string }
  | { kind: 'timed-out'; reason: 'Timeout'; jobs: JobSummary[]; message: string }
  | {
      kind: 'infra-error';
      reason: 'PodCannotStart' | 'JobDeleted' | 'InfraError';
      jobs: JobSummary[];
      message: string;
      early?: boolean;
    }
  | { kind: 'bad-input'; reason: 'UsageError' | 'InputError'; jobs: JobSummary[]; message: string }
  | { kind: 'cancelled'; reason: 'Cancelled'; jobs: JobSummary[]; signal: StopSignal };

/** Exit codes of kubestep, documented in README.md ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  testsFailed: 1,
  badInput: 2,
  infra: 3,
  sigint: 130,
  sigterm: 143,
} as const;

/** The exit code of an outcome: the one mapping, README "Exit codes" says the same. */
export function exitCodeOf(o: Outcome): number {
  switch (o.kind) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
    case 'timed-out':
      return ExitCode.testsFailed;
    case 'bad-input':
      return ExitCode.badInput;
    case 'infra-error':
      return ExitCode.infra;
    case 'cancelled':
      return exitCodeOfSignal(o.signal);
  }
}

/** 128 + the signal's number: what shells and CI systems read as "stopped by that signal". */
export function exitCodeOfSignal(signal: StopSignal): number {
  return signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm;
}

/**
 * The outcome of a command that threw `err` before it had one: `cancelled` when `signal` was
 * aborted by SIGINT or SIGTERM (whatever error the abort caused), `bad-input` for UsageError and
 * InputError, else `infra-error` (the cluster or its API failed).
 */
export function outcomeOfError(err: unknown, signal?: AbortSignal): Outcome {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  if (reason instanceof CancelledError) return cancelled(reason.signal);
  if (err instanceof CancelledError) return cancelled(err.signal);
  if (err instanceof UsageError || err instanceof InputError) {
    const reason = err instanceof UsageError ? 'UsageError' : 'InputError';
    return { kind: 'bad-input', reason, jobs: [], message: messageOf(err) };
  }
  return {
    kind: 'infra-error',
    reason: 'InfraError',
    jobs: [],
    message: messageOf(err),
    early: true,
  };
}

/** A command that ended well without Jobs to report on (`up`, `down`, `gc`, `--help`). */
export const DONE: Outcome = { kind: 'succeeded', reason: 'Done', jobs: [] };

/** Cancelled by `signal`, with the Jobs followed so far. */
export function cancelled(signal: StopSignal, jobs: JobSummary[] = []): Outcome {
  return { kind: 'cancelled', reason: 'Cancelled', jobs, signal };
}

/** The `$KUBESTEP_OUTPUT` values of all Jobs, a later Job's value of a name winning. */
export function mergedOutputs(jobs: readonly JobSummary[]): Record<string, string> {
  return Object.assign({}, ...jobs.map((j) => j.outputs ?? {})) as Record<string, string>;
}
