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
    ['unusable flag falls through', { flag: '***', env: {} }, 'f00d', 'random'],
    ['long id is cut to 40', { flag: 'a'.repeat(50), env: {} }, 'a'.repeat(40), '--run-id'],
  ])('%s', (_, s, runId, from) => {
    expect(resolveRunId({ random, ...s })).toEqual({ runId, from });
  });
});
