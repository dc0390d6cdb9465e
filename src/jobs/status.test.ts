import { describe, expect, it } from 'vitest';
import type { JobCondition } from '../kube/types.js';
import { finishedBefore, isJobFinished, jobState } from './status.js';

const withConditions = (conditions?: JobCondition[]) => ({
  status: conditions ? { conditions } : {},
});

describe('jobState', () => {
  it.each([
    ['no status', {}, 'running'],
    ['no conditions', withConditions(), 'running'],
    ['Complete', withConditions([{ type: 'Complete', status: 'True' }]), 'complete'],
    ['Complete False', withConditions([{ type: 'Complete', status: 'False' }]), 'running'],
    [
      'Failed',
      withConditions([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]),
      'failed',
    ],
    [
      'SuccessCriteriaMet only',
      withConditions([{ type: 'SuccessCriteriaMet', status: 'True' }]),
      'running',
    ],
    [
      'FailureTarget only',
      withConditions([{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded' }]),
      'running',
    ],
    [
      'FailureTarget then Failed',
      withConditions([
        { type: 'FailureTarget', status: 'True' },
        { type: 'Failed', status: 'True', reason: 'DeadlineExceeded' },
      ]),
      'failed',
    ],
    ['Suspended', withConditions([{ type: 'Suspended', status: 'True' }]), 'running'],
  ])('%s → %s', (_, job, phase) => {
    expect(jobState(job).phase).toBe(phase);
    expect(isJobFinished(job)).toBe(phase !== 'running');
  });

  it('carries reason, message and time of the terminal condition', () => {
    const s = jobState(
      withConditions([
        {
          type: 'Failed',
          status: 'True',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
          lastTransitionTime: '2026-01-01T00:00:05Z',
        },
      ]),
    );
    expect(s).toEqual({
      phase: 'failed',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
      at: '2026-01-01T00:00:05Z',
    });
  });
});

describe('finishedBefore', () => {
  const T = Date.parse('2026-11-23T12:00:00Z');
  const cond = (type: string, at: string): JobCondition => ({
    type,
    status: 'True',
    lastTransitionTime: at,
  });
  it.each([
    ['running', {}, undefined],
    [
      'Complete before',
      {
        completionTime: '2026-11-23T11:00:00Z',
        conditions: [cond('Complete', '2026-11-23T11:00:00Z')],
      },
      T - 3_600_000,
    ],
    [
      'Failed before (no completionTime)',
      { conditions: [cond('Failed', '2026-11-23T11:59:00Z')] },
      T - 60_000,
    ],
    [
      'Complete after',
      {
        completionTime: '2026-11-23T12:00:01Z',
        conditions: [cond('Complete', '2026-11-23T12:00:01Z')],
      },
      undefined,
    ],
    [
      'terminal condition without a time',
      { conditions: [{ type: 'Failed', status: 'True' }] },
      undefined,
    ],
  ])('%s', (_name, status, expected) => {
    expect(finishedBefore({ status }, T)).toBe(expected);
  });
});
