import { describe, expect, it } from 'vitest';
import { isTestPod, withGeneratedName } from './shapes.js';

const origin = { source: 'hooks.yaml', index: 1, line: 1 };

describe('withGeneratedName', () => {
  it.each<[string, unknown, RegExp | undefined]>([
    ['a generateName', { metadata: { generateName: 'presync-' } }, /^presync-[a-z2-9]{5}$/],
    [
      'a long one, cut to 58 as the API server does',
      { metadata: { generateName: 'x'.repeat(70) } },
      /^x{58}[a-z2-9]{5}$/,
    ],
    ['a name wins', { metadata: { name: 'fixed', generateName: 'g-' } }, undefined],
    ['no metadata', { kind: 'Job' }, undefined],
  ])('%s', (_what, object, want) => {
    const { object: out, nameTemplate } = withGeneratedName(object, 'run-1', origin);
    const name = (out as { metadata?: { name?: string } }).metadata?.name;
    if (want) {
      expect(name).toMatch(want);
      expect(nameTemplate).toBeDefined();
    } else {
      expect(out).toBe(object);
      expect(nameTemplate).toBeUndefined();
    }
  });

  it('differs per document and per List item', () => {
    const o = { metadata: { generateName: 'g-' } };
    const names = [
      origin,
      { ...origin, index: 2 },
      { ...origin, item: 1 },
      { ...origin, item: 2 },
    ].map(
      (at) =>
        (withGeneratedName(o, 'run-1', at).object as { metadata: { name: string } }).metadata.name,
    );
    expect(new Set(names).size).toBe(4);
  });
});

describe('isTestPod', () => {
  it.each<[unknown, boolean]>([
    [{ apiVersion: 'v1', kind: 'Pod', spec: { restartPolicy: 'Never' } }, true],
    [{ apiVersion: 'v1', kind: 'Pod', spec: { restartPolicy: 'OnFailure' } }, true],
    [{ apiVersion: 'v1', kind: 'Pod', spec: { restartPolicy: 'Always' } }, false],
    [{ apiVersion: 'v1', kind: 'Pod', spec: {} }, false],
    [{ apiVersion: 'batch/v1', kind: 'Job', spec: { restartPolicy: 'Never' } }, false],
  ])('%j: %s', (object, want) => {
    expect(isTestPod(object)).toBe(want);
  });
});
