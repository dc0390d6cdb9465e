import { describe, expect, it } from 'vitest';
import { resolveRunId } from './run-id.js';

const random = () => 'f00d';

describe('resolveRunId', () => {
  it.each([
    ['flag wins', { flag: 'My-Run', env: { BUILD_ID: 'b' } }, 'my-run', '--run-id'],
    [
      'Cloud Build',
      { env: { BUILD_ID: 'B5A2C1F0-3b1e-4b8e-9c7a-0f3c2d1e4a5b', GITHUB_RUN_ID: '9' } },
      'b5a2c1f0-3b1e-4b8e-9c7a-0f3c2d1e4a5b',
      'BUILD_ID',
    ],
    [
      'GitHub',
      { env: { GITHUB_RUN_ID: '123456789', GITHUB_RUN_ATTEMPT: '2' } },
      '123456789-2',
      'GITHUB_RUN_ID',
    ],
    ['GitHub without attempt', { env: { GITHUB_RUN_ID: '7' } }, '7-1', 'GITHUB_RUN_ID'],
    ['random', { env: {} }, 'f00d', 'random'],
    ['flag of 40 characters', { flag: 'a'.repeat(40), env: {} }, 'a'.repeat(40), '--run-id'],
    [
      'long BUILD_ID is cut to 40',
      { env: { BUILD_ID: 'b'.repeat(50) } },
      'b'.repeat(40),
      'BUILD_ID',
    ],
    ['unusable BUILD_ID falls through', { env: { BUILD_ID: '***' } }, 'f00d', 'random'],
  ])('%s', (_, s, runId, from) => {
    expect(resolveRunId({ random, ...s })).toEqual({ runId, from });
  });

  it.each([
    ['flag wins', { flag: 'My-Run', env: { BUILD_ID: 'b' } }, 'my-run', '--run-id'],
    [
      'Cloud Build: 33 characters of BUILD_ID and the suffix',
      { env: { BUILD_ID: 'B5A2C1F0-3b1e-4b8e-9c7a-0f3c2d1e4a5b' } },
      'b5a2c1f0-3b1e-4b8e-9c7a-0f3c2d1e4-c0ffee',
      'BUILD_ID and a random suffix',
    ],
    [
      'GitHub',
      { env: { GITHUB_RUN_ID: '123456789', GITHUB_RUN_ATTEMPT: '2' } },
      '123456789-2-c0ffee',
      'GITHUB_RUN_ID and a random suffix',
    ],
    ['nothing: random', { env: {} }, 'c0ffee12', 'random'],
  ])('unique per process: %s', (_, s, runId, from) => {
    const r = resolveRunId({ random: () => 'c0ffee12', unique: true, ...s });
    expect(r).toEqual({ runId, from });
    expect(r.runId.length).toBeLessThanOrEqual(40);
  });

  it.each([
    ['***', /--run-id "\*\*\*" has no letter or digit/],
    ['', /--run-id "" has no letter or digit/],
    ['a'.repeat(41), /is 41 characters long; the limit is 40/],
  ])('rejects --run-id %j', (flag, message) => {
    expect(() => resolveRunId({ random, flag, env: {} })).toThrow(message);
  });
});
