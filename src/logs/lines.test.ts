import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../kube/line-splitter.js';
import { joinPartialLines, LogCursor, normalizeTimestamp } from './lines.js';

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
    // containerd stamps stdout and stderr in separate readers: file order is not time order.
    [
      'an earlier-stamped stderr line after a stdout line',
      [[`${T('01', '5')} out-1`, `${T('01', '9')} out-2`, `${T('01', '7')} err`]],
      ['out-1', 'out-2', 'err'],
    ],
    [
      'an earlier-stamped line, then a resume at that second',
      [
        [`${T('01', '5')} out-1`, `${T('01', '9')} out-2`],
        [`${T('01', '5')} out-1`, `${T('01', '9')} out-2`, `${T('01', '7')} err`],
      ],
      ['out-1', 'out-2', 'err'],
    ],
    [
      'a line of the previous second after the next one, then a resume',
      [
        [`${T('01', '9')} a`, `${T('02', '1')} b`, `${T('01', '95')} c`],
        // sinceTime is second 02: the API sends b again (c is of second 01), then d.
        [`${T('02', '1')} b`, `${T('02', '5')} d`],
      ],
      ['a', 'b', 'c', 'd'],
    ],
    [
      'an earlier-stamped line printed before the cut is not counted as a repeat',
      [
        [`${T('02', '1')} a`, `${T('01', '9')} late`],
        [`${T('02', '1')} a`, `${T('02', '3')} b`],
      ],
      ['a', 'late', 'b'],
    ],
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

describe('joinPartialLines', () => {
  const T0 = '2026-11-23T07:08:04.588405581Z';
  const T1 = '2026-11-23T07:08:04.588713789Z ';
  const T2 = '2026-11-23T07:08:04.588970240Z ';
  const K16 = 'x'.repeat(16384);
  // 'é' is 2 bytes in UTF-8: 8192 of them fill a 16 KiB chunk.
  const E16 = 'é'.repeat(8192);
  const cases: [string, string, string][] = [
    ['a short line', 'hello', 'hello'],
    ['one long line in three partial entries', K16 + T1 + K16 + T2 + 'end', K16 + K16 + 'end'],
    ['chunks counted in bytes, not characters', E16 + T1 + 'rest', E16 + 'rest'],
    ['CRI-O-sized chunks (8 KiB)', 'y'.repeat(8192) + T1 + 'z', 'y'.repeat(8192) + 'z'],
    [
      'a timestamp in the text before 1 KiB stays',
      `at ${T1}started` + 'x'.repeat(2000),
      `at ${T1}started` + 'x'.repeat(2000),
    ],
    [
      'a timestamp at a size that is no multiple of 1 KiB stays',
      'x'.repeat(5000) + T1 + 'y',
      'x'.repeat(5000) + T1 + 'y',
    ],
    [
      'a timestamp older than the line stays',
      K16 + '2026-11-23T07:08:03Z ' + 'y',
      K16 + '2026-11-23T07:08:03Z ' + 'y',
    ],
    [
      'a timestamp inside a later chunk stays; the boundary after it goes',
      K16 + T1 + 'ab ' + T2 + 'x'.repeat(16384 - 3 - T2.length) + T2 + 'end',
      K16 + 'ab ' + T2 + 'x'.repeat(16384 - 3 - T2.length) + 'end',
    ],
    [
      'a timestamp past the chunk size in the last chunk stays',
      K16 + T1 + 'x'.repeat(16400) + T2 + 'end',
      K16 + 'x'.repeat(16400) + T2 + 'end',
    ],
  ];
  it.each(cases)('%s', (_name, text, joined) => {
    expect(joinPartialLines(text, T0)).toBe(joined);
  });

  it('LogCursor.accept joins a long line that arrived in partial entries', () => {
    const c = new LogCursor();
    expect(c.accept(`${T0} ${K16}${T1}tail`)).toEqual({
      print: true,
      text: `${K16}tail`,
      timestamp: T0,
    });
  });
});
