// Typed errors. Each says what happened and what to do next; outcomeOfError (core/outcome.ts)
// turns them into the one outcome, and exitCodeOf that into the exit code.

/** Bad command line: unknown flag, bad value. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Bad input: a manifest that cannot be parsed or is not a valid test Job, an undefined variable,
 * a kubeconfig that cannot be used. Exit code 2; nothing was created.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The cluster or its API failed us: unreachable after retries, forbidden, a conflicting Job of
 * another run. Exit code 3.
 */
export class InfraError extends Error {
  override readonly name = 'InfraError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * kubestep's own code failed (an uncaught exception or an unhandled rejection): the reason of
 * the root AbortSignal, so the run stops, cleans up and exits 3 like for an infrastructure error.
 */
export class InternalError extends InfraError {
  constructor(what: string, err: unknown) {
    super(
      `kubestep itself failed (${what}: ${messageOf(err)}); this is a bug in kubestep: please report it with this output`,
    );
  }
}

/** The message of any thrown value, without a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The run was cancelled by SIGINT or SIGTERM: the reason of the root AbortSignal. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`received ${signal}`);
  }
}

/** The run's --timeout passed: the reason of the run's AbortSignal. */
export class RunTimeoutError extends Error {
  override readonly name = 'RunTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`--timeout of ${Math.round(timeoutMs / 1000)} s passed`);
  }
}
