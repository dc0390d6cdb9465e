import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../kube/line-splitter.js';
import { joinPartialLines, LogCursor, normalizeTimestamp, PartialLineJoiner } from './lines.js';

describe('LineSplitter', () => {
  it.each([
    ['one chunk', ['a\nb\n'], ['a', 'b'], undefined],
    ['split line', ['ab', 'c\nd'], ['abc'], 'd'],
    ['CRLF', ['a\r\nb\r\n'], ['a', 'b'], undefined],
    ['empty lines', ['\n\n'], ['', ''], undefined],
    ['no newline', ['abc'], [], 'abc'],
  ])('%s', (_, chunks, lines, rest) => {
    const s = new LineSplitter();
    expect(chunks.flatMap((c) => s.push(c)).map((l) => l.text)).toEqual(lines);
    expect(s.end()).toBe(rest);
  });

  it('keeps a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('grüße\n');
    const s = new LineSplitter();
    const out = [...s.push(bytes.subarray(0, 3)), ...s.push(bytes.subarray(3))];
    expect(out).toEqual([{ text: 'grüße' }]);
  });

  it.each([
    ['at the limit', ['abcd\n'], [['abcd', false]]],
    [
      'over the limit in one chunk',
      ['abcdefghij\nk\n'],
      [
        ['abcd', true],
        ['efgh', true],
        ['ij', false],
        ['k', false],
      ],
    ],
    [
      'over the limit across chunks',
      ['ab', 'cd', 'ef\n'],
      [
        ['abcd', true],
        ['ef', false],
      ],
    ],
    [
      'not inside a character',
      ['aüßc\n'],
      [
        ['aü', true],
        ['ßc', false],
      ],
    ],
    [
      'CRLF after a piece',
      ['abcde\r\n'],
      [
        ['abcd', true],
        ['e', false],
      ],
    ],
  ])('passes a line longer than the limit on in pieces: %s', (_, chunks, pieces) => {
    const s = new LineSplitter(4);
    const out = chunks.flatMap((c) => s.push(c));
    expect(out.map((l) => [l.text, l.continued === true])).toEqual(pieces);
    expect(s.end()).toBeUndefined();
  });

  it('ends a long unterminated line with what is left, or an empty string', () => {
    const s = new LineSplitter(4);
    expect(s.push('abcdef').map((l) => l.text)).toEqual(['abcd']);
    expect(s.end()).toBe('ef');
    expect(s.push('abcde').map((l) => l.text)).toEqual(['abcd']);
    expect(s.push('f').map((l) => l.text)).toEqual([]);
    expect(s.end()).toBe('ef');
    expect(s.push('abcdefgh').map((l) => l.text)).toEqual(['abcd']);
    expect(s.end()).toBe('efgh');
    expect(s.end()).toBeUndefined();
  });

  it('passes 64 MiB without a newline on in 1 MiB pieces, every byte once', () => {
    const s = new LineSplitter(1 << 20);
    const chunk = Buffer.alloc(64 * 1024, 'ab');
    let bytes = 0;
    let pieces = 0;
    for (let i = 0; i < 1024; i++) {
      for (const l of s.push(chunk)) {
        expect(l).toEqual({ text: 'ab'.repeat(1 << 19), continued: true });
        bytes += l.text.length;
        pieces++;
      }
    }
    expect(pieces).toBe(63);
    expect(bytes + (s.end()?.length ?? 0)).toBe(64 << 20);
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

  it('gives the start of the last printed line as the anchor, and prints every recovered line', () => {
    const c = new LogCursor();
    c.startStream();
    expect(c.anchor).toBeUndefined();
    c.accept(`${T('07', '1')} a`);
    c.accept(`${T('07', '2')} b`);
    expect(c.anchor).toBe(`${T('07', '2')} b`);
    c.startStream(); // a stream at 07 would repeat a and b; recovered lines are all new
    c.startRecovery();
    expect(c.accept(`${T('07', '3')} c`)).toMatchObject({ print: true, text: 'c' });
    expect(c.anchor).toBe(`${T('07', '3')} c`);
    expect(c.printed).toBe(3);
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

  it.each([1, 7, 30, 31, 32, 1000, 16384, 16415])(
    'gives the same text when the line comes in pieces of %i characters',
    (size) => {
      for (const [, text, joined] of cases) {
        const j = new PartialLineJoiner(T0);
        let out = '';
        for (let i = 0; i < text.length; i += size)
          out += j.push(text.slice(i, i + size), i + size >= text.length);
        expect(out).toBe(joined);
      }
    },
  );

  it('LogCursor.accept prints all pieces of a long line, or none', () => {
    const c = new LogCursor();
    const first = c.accept(`${T0} ${K16}${T1}ab`, true);
    expect(first).toMatchObject({ print: true, continued: true, timestamp: T0 });
    const second = c.accept('cd', false);
    expect(second).toMatchObject({ print: true });
    expect(second).not.toHaveProperty('continued');
    expect(first.print && second.print && first.text + second.text).toBe(`${K16}abcd`);
    expect(c.printed).toBe(1);
    // Reopened at the same second: the repeated long line is skipped, all its pieces.
    c.startStream();
    expect(c.accept(`${T0} ${K16}${T1}ab`, true)).toEqual({ print: false });
    expect(c.accept('cd', false)).toEqual({ print: false });
    expect(c.accept(`${T2}next`)).toEqual({ print: true, text: 'next', timestamp: T2.trim() });
  });

  it('LogCursor.accept prints the rest of a long line whose stream was cut inside it', () => {
    const c = new LogCursor();
    const out: string[] = [];
    const take = (a: ReturnType<LogCursor['accept']>) => a.print && out.push(a.text);
    c.startStream();
    take(c.accept(`${T0} first`));
    take(c.accept(`${T0} ${K16}${T1}abc`, true));
    take(c.accept('defgh', true));
    // Cut here; the reopened stream starts at the same second and repeats both lines whole,
    // in pieces cut elsewhere.
    c.startStream();
    take(c.accept(`${T0} first`));
    take(c.accept(`${T0} ${K16}`, true));
    take(c.accept(`${T1}abcdef`, true));
    take(c.accept('ghij', false));
    take(c.accept(`${T2}next`));
    // The joiner holds back the last 40 characters of a piece (a timestamp may span two).
    expect(out.join('|').replaceAll(K16, 'K')).toBe('first|K|abcdefghij|next');
    expect(c.printed).toBe(3);
  });

  it('LogCursor counts a long line that ended in a later second as a repeat of that second', () => {
    const c = new LogCursor();
    const out: string[] = [];
    const take = (a: ReturnType<LogCursor['accept']>) => a.print && out.push(a.text);
    const LATER = '2026-11-23T07:08:07.000000001Z ';
    c.startStream();
    take(c.accept(`${T0} ${K16}${LATER}rest`));
    take(c.accept(`${LATER}end`));
    // Reopened at 07:08:07: the API sends the line's last partial entry, then `end`.
    c.startStream();
    expect(c.sinceTime()).toBe('2026-11-23T07:08:07Z');
    take(c.accept(`${LATER}rest`));
    take(c.accept(`${LATER}end`));
    take(c.accept(`${LATER}new`));
    expect(out.map((l) => l.replace(K16, 'K'))).toEqual(['Krest', 'end', 'new']);
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
