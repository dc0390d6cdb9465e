import { describe, expect, it } from 'vitest';
import { CancelledError, InfraError, InputError, RunTimeoutError, UsageError } from './errors.js';
import { exitCodeOf, outcomeOfError, type Outcome } from './outcome.js';

describe('exitCodeOf', () => {
  it.each<[Outcome, number]>([
    [{ kind: 'succeeded', reason: 'Complete', jobs: [] }, 0],
    [{ kind: 'failed', reason: 'JobFailed', jobs: [], message: 'job/a failed' }, 1],
    [{ kind: 'timed-out', reason: 'Timeout', jobs: [], message: '--timeout of 1 s passed' }, 1],
    [{ kind: 'bad-input', reason: 'InputError', jobs: [], message: 'bad' }, 2],
    [{ kind: 'infra-error', reason: 'InfraError', jobs: [], message: 'stuck' }, 3],
    [{ kind: 'infra-error', reason: 'InfraError', jobs: [], message: 'no access', early: true }, 3],
    [{ kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGINT' }, 130],
    [{ kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGTERM' }, 143],
  ])('%o → %d', (outcome, code) => {
    expect(exitCodeOf(outcome)).toBe(code);
  });
});

describe('outcomeOfError', () => {
  const aborted = (reason: unknown) => {
    const c = new AbortController();
    c.abort(reason);
    return c.signal;
  };
  it.each<[string, unknown, AbortSignal | undefined, Outcome]>([
    [
      'usage',
      new UsageError('--x'),
      undefined,
      { kind: 'bad-input', reason: 'UsageError', jobs: [], message: '--x' },
    ],
    [
      'input',
      new InputError('bad yaml'),
      undefined,
      { kind: 'bad-input', reason: 'InputError', jobs: [], message: 'bad yaml' },
    ],
    [
      'infra',
      new InfraError('forbidden'),
      undefined,
      { kind: 'infra-error', reason: 'InfraError', jobs: [], message: 'forbidden', early: true },
    ],
    [
      'any other error',
      new Error('boom'),
      new AbortController().signal,
      { kind: 'infra-error', reason: 'InfraError', jobs: [], message: 'boom', early: true },
    ],
    // SIGINT while reading manifests or resolving access: whatever the abort made the code throw.
    [
      'SIGINT during prepare',
      new InfraError('request aborted'),
      aborted(new CancelledError('SIGINT')),
      { kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGINT' },
    ],
    [
      'SIGTERM during gc, as a bad-input error',
      new InputError('x'),
      aborted(new CancelledError('SIGTERM')),
      { kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGTERM' },
    ],
    [
      'the cancellation itself',
      new CancelledError('SIGTERM'),
      undefined,
      { kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGTERM' },
    ],
    [
      'a signal aborted by --timeout is no cancellation',
      new InfraError('request aborted'),
      aborted(new RunTimeoutError(1000)),
      {
        kind: 'infra-error',
        reason: 'InfraError',
        jobs: [],
        message: 'request aborted',
        early: true,
      },
    ],
  ])('%s', (_name, err, signal, outcome) => {
    expect(outcomeOfError(err, signal)).toEqual(outcome);
  });
});
