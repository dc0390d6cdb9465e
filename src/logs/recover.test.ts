import { describe, expect, it } from 'vitest';
import { recoverAfter, type RecoverLimits, type WindowReader } from './recover.js';

/** A container's log as the log API serves it by position; answers over `cutBytes` are cut. */
function logOf(lines: string[], cutBytes = Infinity): { read: WindowReader; reads: number[] } {
  const reads: number[] = [];
  const read: WindowReader = (tailLines, limitBytes) => {
    reads.push(tailLines);
    const from = Math.max(0, lines.length - tailLines);
    const text = lines
      .slice(from)
      .map((l) => l + '\n')
      .join('');
    const answer = Buffer.from(text).subarray(0, limitBytes).toString();
    if (Buffer.byteLength(answer) > cutBytes) return Promise.reject(new Error('connection cut'));
    return Promise.resolve(answer);
  };
  return { read, reads };
}

const LIMITS: RecoverLimits = { startBytes: 4096, minBytes: 256, maxBytes: 65536, maxReads: 5000 };
const line = (i: number) =>
  `2026-11-29T10:00:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z n${i}`;

async function recover(
  log: string[],
  anchor: string | undefined,
  cutBytes = Infinity,
  limits = LIMITS,
) {
  const { read } = logOf(log, cutBytes);
  const got: string[] = [];
  const r = await recoverAfter(read, anchor, (l) => (got.push(...l), Promise.resolve()), limits);
  return { ...r, got };
}

describe('recoverAfter', () => {
  const log = Array.from({ length: 5000 }, (_, i) => line(i));
  it.each([
    ['in the middle', 1200, Infinity],
    ['the first line', 0, Infinity],
    ['the last line', 4999, Infinity],
    ['one before the last', 4998, Infinity],
    ['through connections cut after 1 KiB', 1200, 1024],
    ['through connections cut after 300 bytes', 3000, 300],
  ])('gives every line after the anchor once, in order: %s', async (_, at, cut) => {
    const r = await recover(log, log[at], cut);
    expect(r.got).toEqual(log.slice(at + 1));
    expect(r).toMatchObject({ recovered: 4999 - at, lost: 0 });
  });

  it('gives the whole log without an anchor', async () => {
    for (const n of [0, 1, 63, 64, 65, 500]) {
      const r = await recover(log.slice(0, n), undefined);
      expect(r.got).toEqual(log.slice(0, n));
      expect(r.lost).toBe(0);
    }
  });

  it('matches the anchor by its start (a long line is kept as its first characters)', async () => {
    const r = await recover(log, log[4000]!.slice(0, 33));
    expect(r.got).toEqual(log.slice(4001));
  });

  it('reads lines longer than the first window by growing it', async () => {
    const long = [
      line(1),
      `${line(2)}${'x'.repeat(20000)}`,
      line(3),
      `${line(4)}${'y'.repeat(9000)}`,
    ];
    const r = await recover(long, long[0]);
    expect(r.got).toEqual(long.slice(1));
  });

  it('says why when a line is longer than the largest window', async () => {
    const long = [line(1), `${line(2)}${'x'.repeat(70000)}`, line(3)];
    const r = await recover(long, long[0]);
    expect(r).toMatchObject({ lost: undefined, recovered: 0 });
    expect(r.why).toMatch(/longer than 65536 bytes/);
  });

  it('says exactly how many lines it could not read when reading stops after counting', async () => {
    // Where the first pass (counting, tailLines growing) ends and the second (shrinking) begins.
    let n = 0;
    const countReads = logOf(log).read;
    const passes: number[] = [];
    await recoverAfter(
      (t, b) => (passes.push(t), countReads(t, b)),
      log[1200],
      () => Promise.resolve(),
      LIMITS,
    );
    const locateReads = passes.findIndex((t, i) => i > 0 && t < passes[i - 1]!);
    expect(locateReads).toBeGreaterThan(0);
    // The same recovery, with every read failing once the first pass and two windows are done.
    const failing: WindowReader = (t, b) =>
      ++n > locateReads + 2 ? Promise.reject(new Error('connection refused')) : countReads(t, b);
    const got: string[] = [];
    const r = await recoverAfter(
      failing,
      log[1200],
      (l) => (got.push(...l), Promise.resolve()),
      LIMITS,
    );
    expect(got).toEqual(log.slice(1201, 1201 + got.length));
    expect(r.recovered).toBe(got.length);
    expect(got.length).toBeGreaterThan(0);
    expect(r.lost).toBe(3799 - got.length);
    expect(r.why).toBe('connection refused');
  });

  it('says the count is unknown when the anchor is not in the log', async () => {
    const r = await recover(log, 'not there');
    expect(r).toMatchObject({ recovered: 0, lost: undefined });
    expect(r.got).toEqual([]);
  });

  it('stops after maxReads, with the count when it is known', async () => {
    const r = await recover(log, log[10], 300, { ...LIMITS, maxReads: 40 });
    expect(r.lost).toBeUndefined();
    expect(r.why).toMatch(/gave up after 40 reads/);
  });

  it('reads each line about twice: once to count, once to print', async () => {
    const { read, reads } = logOf(log);
    await recoverAfter(read, log[2000], () => Promise.resolve(), LIMITS);
    const bytes = Buffer.byteLength(log.join('\n')) * (3000 / 5000);
    expect(reads.length).toBeLessThan(Math.ceil((2 * bytes) / (LIMITS.startBytes * 0.7)) + 5);
  });
});
