import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes } from './format.js';

describe('parseBytes', () => {
  it.each<[string, number | undefined]>([
    ['512', 512],
    ['1Gi', 1024 ** 3],
    ['1GiB', 1024 ** 3],
    ['500Mi', 500 * 1024 ** 2],
    ['2G', 2e9],
    ['1.5Ki', 1536],
    ['lots', undefined],
    ['-1Gi', undefined],
  ])('%s', (text, want) => {
    expect(parseBytes(text)).toBe(want);
  });
});

describe('formatBytes', () => {
  it.each<[number, string]>([
    [812, '812 B'],
    [3482, '3.4 KiB'],
    [5 * 1024 ** 2, '5.0 MiB'],
    [1.25 * 1024 ** 3, '1.3 GiB'],
  ])('%d', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});
