import { describe, expect, it } from 'vitest';
import { podSelectorOf } from './selectors.js';

describe('podSelectorOf', () => {
  it.each([
    ['no spec', {}, undefined],
    ['no selector yet (not created)', { spec: {} }, undefined],
    [
      'set by the API server',
      { spec: { selector: { matchLabels: { 'controller-uid': 'u-1' } } } },
      'controller-uid=u-1',
    ],
    [
      'manualSelector with two labels',
      { spec: { selector: { matchLabels: { app: 'tests', tier: 'ci' } } } },
      'app=tests,tier=ci',
    ],
    ['empty matchLabels', { spec: { selector: { matchLabels: {} } } }, undefined],
    [
      'matchExpressions',
      {
        spec: {
          selector: {
            matchLabels: { app: 'tests' },
            matchExpressions: [{ key: 'tier', operator: 'In', values: ['ci'] }],
          },
        },
      },
      undefined,
    ],
  ])('%s → %s', (_, job, selector) => {
    expect(podSelectorOf(job)).toBe(selector);
  });
});
