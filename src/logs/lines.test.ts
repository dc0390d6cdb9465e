import { describe, expect, it } from 'vitest';
import { LineSplitter, LogCursor, normalizeTimestamp } from './lines.js';

describe('LineSplitter', () => {
  it.each([
    ['one chunk', ['a\nb\n'], ['a', 'b'], undefined],
    ['split line', ['ab', 'c\nd'], ['abc'], 'd'],
    ['CRLF', ['a\r\nb\r\n'], ['a', 'b'], undefined],
    ['empty lines', ['\n\n'], ['', ''], undefined],
    ['no newline', ['abc'], [], 'abc'],
  ])('%s', (_, chunks, lines, rest) => {
    const s = new LineSplitter();
    expect(chunks.flatMap((c) => s.push(c))).toEqual(lines);
    expect(s.end()).toBe(rest);
  });

  it('keeps a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('grüße\n');
    const s = new LineSplitter();
    const out = [...s.push(bytes.subarray(0, 3)), ...s.push(bytes.subarray(3))];
    expect(out).toEqual(['grüße']);
  });
});

describe('normalizeTimestamp', () => {
  it.each([
    ['2026-01-02T03:04:05.123456789Z', '2026-01-02T03:04:05.123456789Z'],
    ['2026-01-02T03:04:05.1Z', '2026-01-02T03:04:05.100000000Z'],
    ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000000000Z'],
    ['2026-01-02T04:04:05.5+01:00', '2026-01-02T03:04:05.500000000Z'],
    ['hello', undefined],
    ['', undefined],
  ])('%s', (ts, expected) => {
    expect(normalizeTimestamp(ts)).toBe(expected);
  });

  it('sorts like time', () => {
    const a = normalizeTimestamp('2026-01-02T03:04:05.9Z')!;
    const b = normalizeTimestamp('2026-01-02T03:04:05.10Z')!;
    expect(a > b).toBe(true);
  });
});

/** Feeds streams (arrays of raw lines) through one cursor; returns the printed texts. */
function replay(streams: string[][]): string[] {
  const c = new LogCursor();
  const out: string[] = [];
  for (const stream of streams) {
    c.startStream();
    for (const line of stream) {
      const a = c.accept(line);
      if (a.print) out.push(a.text);
    }
  }
  return out;
}

const T = (s: string, frac = '') => `2026-01-02T03:04:${s}${frac ? '.' + frac : ''}Z`;

describe('LogCursor', () => {
  it.each([
    ['one stream', [[`${T('01')} a`, `${T('02')} b`]], ['a', 'b']],
    [
      'resume repeats the last second',
      [
        [`${T('01', '1')} a`, `${T('01', '2')} b`],
        [`${T('01', '1')} a`, `${T('01', '2')} b`, `${T('01', '3')} c`],
      ],
      ['a', 'b', 'c'],
    ],
    [
      'same timestamp twice, cut between them',
      [[`${T('01', '5')} a`], [`${T('01', '5')} a`, `${T('01', '5')} b`, `${T('02')} c`]],
      ['a', 'b', 'c'],
    ],
    [
      'same timestamp twice, both printed, then resume',
      [
        [`${T('01', '5')} a`, `${T('01', '5')} b`],
        [`${T('01', '5')} a`, `${T('01', '5')} b`, `${T('01', '5')} c`],
      ],
      ['a', 'b', 'c'],
    ],
    ['empty message', [[`${T('01')} `, T('02')]], ['', '']],
    ['no timestamp passes through', [['plain'], ['plain']], ['plain', 'plain']],
    ['text keeps its spaces', [[`${T('01')}   indented  `]], ['  indented  ']],
    ['three cuts, nothing new', [[`${T('01')} a`], [`${T('01')} a`], [`${T('01')} a`]], ['a']],
  ])('%s', (_, streams, expected) => {
    expect(replay(streams)).toEqual(expected);
  });

  it('skips the rest of a second when told to', () => {
    const c = new LogCursor();
    c.startStream();
    expect(c.skipSecond()).toBeUndefined();
    expect(c.accept(`${T('07', '1')} a`).print).toBe(true);
    expect(c.skipSecond()).toBe('2026-01-02T03:04:07Z');
    expect(c.sinceTime()).toBe('2026-01-02T03:04:08Z');
    c.startStream();
    expect(c.accept(`${T('07', '5')} lost`).print).toBe(false);
    expect(c.accept(`${T('08')} b`)).toEqual({
      print: true,
      text: 'b',
      timestamp: '2026-01-02T03:04:08.000000000Z',
    });
    expect(c.accept(`${T('08', '2')} c`).print).toBe(true);
  });

  it('skips across a minute boundary', () => {
    const c = new LogCursor();
    c.accept('2026-01-02T03:04:59.5Z x');
    c.skipSecond();
    expect(c.sinceTime()).toBe('2026-01-02T03:05:00Z');
  });

  it('resumes at the last printed second', () => {
    const c = new LogCursor();
    expect(c.sinceTime()).toBeUndefined();
    c.accept(`${T('07', '999')} x`);
    expect(c.sinceTime()).toBe('2026-01-02T03:04:07Z');
    expect(c.printed).toBe(1);
  });

  it('prints 1000 lines exactly once, in order, when cut after every 7th line', () => {
    // Two lines share each timestamp; 100 lines per second, as a fast-logging test would.
    const ts = (i: number) =>
      T(String(10 + Math.floor(i / 100)), String(Math.floor((i % 100) / 2)).padStart(3, '0'));
    const lines = Array.from({ length: 1000 }, (_, i) => `${ts(i)} n${i}`);
    const second = (i: number) => Math.floor(i / 100);
    const streams: string[][] = [];
    let printedUpTo = 0; // lines[0..printedUpTo) were delivered by earlier streams
    while (printedUpTo < 1000) {
      // The API answers sinceTime (whole seconds) with every line from that second on.
      const from = printedUpTo === 0 ? 0 : second(printedUpTo - 1) * 100;
      const cut = Math.min(printedUpTo + 7, 1000);
      streams.push(lines.slice(from, cut));
      printedUpTo = cut;
    }
    expect(streams.length).toBeGreaterThan(100);
    expect(replay(streams)).toEqual(lines.map((_, i) => `n${i}`));
  });
});
