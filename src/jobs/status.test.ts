import { describe, expect, it } from 'vitest';
import type { JobCondition } from '../kube/types.js';
import { isJobFinished, jobState } from './status.js';

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
