import { describe, expect, it } from 'vitest';
import { dnsLabelProblem, labelKeyProblem, labelValueProblem, toLabelSafe } from './names.js';

describe('dnsLabelProblem', () => {
  it.each([
    ['tests', true],
    ['tests-abc-1', true],
    ['a', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['Tests', false],
    ['-tests', false],
    ['tests-', false],
    ['tests.one', false],
    ['', false],
  ])('%s valid=%s', (name, valid) => {
    expect(dnsLabelProblem(name) === undefined).toBe(valid);
  });
});

describe('labelValueProblem', () => {
  it.each([
    ['', true],
    ['abc', true],
    ['A_b.c-1', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['-a', false],
    ['a b', false],
    ['a/b', false],
  ])('%s valid=%s', (value, valid) => {
    expect(labelValueProblem(value) === undefined).toBe(valid);
  });
});

describe('labelKeyProblem', () => {
  it.each([
    ['app', true],
    ['app.kubernetes.io/name', true],
    ['kubestep.dev/run-id', true],
    ['Bad_Prefix/x', false],
    ['a/' + 'x'.repeat(64), false],
    ['', false],
    ['app/', false],
  ])('%s valid=%s', (key, valid) => {
    expect(labelKeyProblem(key) === undefined).toBe(valid);
  });
});

describe('toLabelSafe', () => {
  it.each([
    ['b5a2c1f0-3b1e-4b8e-9c7a-0f3c2d1e4a5b', 'b5a2c1f0-3b1e-4b8e-9c7a-0f3c2d1e4a5b'],
    ['12345-2', '12345-2'],
    ['My Build_ID!', 'my-build-id'],
    ['--x--', 'x'],
    ['x'.repeat(80), 'x'.repeat(63)],
    ['a'.repeat(62) + '-b', 'a'.repeat(62)],
    ['***', ''],
  ])('%s -> %s', (raw, safe) => {
    expect(toLabelSafe(raw)).toBe(safe);
    if (safe) expect(labelValueProblem(safe)).toBeUndefined();
  });
});
