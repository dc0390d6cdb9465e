import { describe, expect, it } from 'vitest';
import type { JobSummary } from '../core/outcome.js';
import {
  consoleLink,
  lineEntries,
  MAX_BATCH_BYTES,
  MAX_BATCH_ENTRIES,
  MAX_ENTRY_BYTES,
  MAX_MESSAGE_BYTES,
  runLabels,
  splitUtf8,
  summaryEntry,
  takeBatch,
  type CloudEntry,
} from './cloud-entries.js';

const NOW = Date.parse('2026-11-23T10:00:00Z');

describe('runLabels', () => {
  it.each([
    ['Cloud Build', { BUILD_ID: 'b-1' }, { build_id: 'b-1' }],
    ['GitHub Actions', { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' }, { build_id: '42-2' }],
    ['GitHub without an attempt', { GITHUB_RUN_ID: '42' }, { build_id: '42-1' }],
    ['both: Cloud Build wins', { BUILD_ID: 'b-1', GITHUB_RUN_ID: '42' }, { build_id: 'b-1' }],
    ['neither: no build_id label', {}, {}],
    ['an empty BUILD_ID counts as none', { BUILD_ID: '' }, {}],
  ])('%s', (_name, env, extra) => {
    expect(runLabels('r1', 'gke-1', env)).toEqual({ run_id: 'r1', cluster: 'gke-1', ...extra });
  });
});

describe('splitUtf8', () => {
  it.each<[string, string, number, string[]]>([
    ['fits', 'abc', 3, ['abc']],
    ['empty', '', 3, ['']],
    ['ASCII', 'abcdefg', 3, ['abc', 'def', 'g']],
    ['2-byte characters are not cut', 'ééé', 3, ['é', 'é', 'é']],
    ['a surrogate pair (4 bytes) stays whole', 'a😀b', 4, ['a', '😀', 'b']],
  ])('%s', (_name, text, max, parts) => {
    const got = splitUtf8(text, max);
    expect(got).toEqual(parts);
    expect(got.join('')).toBe(text);
    expect(got.every((p) => Buffer.byteLength(p) <= max)).toBe(true);
  });
});

describe('lineEntries', () => {
  const labels = runLabels('r1', 'c1', { BUILD_ID: 'b9' });
  const line = {
    namespace: 'ns',
    pod: 'test-abc',
    container: 'main',
    job: 'test',
    text: 'hello',
    seq: 7,
  };

  it('one entry with severity DEFAULT, labels and a jsonPayload', () => {
    const [e, ...rest] = lineEntries(line, labels, NOW, 'u1');
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      severity: 'DEFAULT',
      timestamp: '2026-11-23T10:00:00.000Z',
      labels: {
        run_id: 'r1',
        build_id: 'b9',
        cluster: 'c1',
        namespace: 'ns',
        pod: 'test-abc',
        container: 'main',
        job: 'test',
      },
      jsonPayload: {
        message: 'hello',
        pod: 'test-abc',
        container: 'main',
        job: 'test',
        namespace: 'ns',
        seq: 7,
      },
    });
    expect(e!.split).toBeUndefined();
    expect(e!.bytes).toBe(Buffer.byteLength(JSON.stringify({ ...e, bytes: undefined })));
  });

  it('a pod that belongs to no Job: no job label', () => {
    const [e] = lineEntries({ ...line, job: undefined }, labels, NOW, 'u1');
    expect(e!.labels).not.toHaveProperty('job');
  });

  it.each([
    ['at the limit: one entry', MAX_MESSAGE_BYTES, 1],
    ['one byte over: two entries', MAX_MESSAGE_BYTES + 1, 2],
    ['1 MB: five entries', 1_000_000, 5],
  ])('%s', (_name, length, count) => {
    const text = 'x'.repeat(length);
    const entries = lineEntries({ ...line, text }, labels, NOW, 'u2');
    expect(entries).toHaveLength(count);
    expect(entries.map((e) => e.jsonPayload.message).join('')).toBe(text);
    expect(entries.every((e) => e.bytes <= MAX_ENTRY_BYTES)).toBe(true);
    if (count > 1) {
      expect(entries.map((e) => e.split)).toEqual(
        entries.map((_, index) => ({ uid: 'u2', index, totalSplits: count })),
      );
    }
  });
});

describe('summaryEntry', () => {
  const job = (over: Partial<JobSummary>): JobSummary => ({
    name: 'test',
    namespace: 'ns',
    result: 'Complete',
    explanation: 'all containers exited with code 0',
    attempts: 1,
    exitCodes: [0],
    durationMs: 1234,
    pods: [],
    ...over,
  });
  it.each<[string, Partial<JobSummary>, string, string]>([
    ['passed: INFO', {}, 'INFO', 'job/test Complete: all containers exited with code 0'],
    [
      'failed: ERROR with the reason',
      {
        result: 'Failed',
        reason: 'BackoffLimitExceeded',
        explanation: 'container main exited with code 3',
        exitCodes: [3],
        attempts: 2,
      },
      'ERROR',
      'job/test Failed (BackoffLimitExceeded): container main exited with code 3',
    ],
  ])('%s', (_name, over, severity, message) => {
    const j = job(over);
    const e = summaryEntry(j, runLabels('r1', 'c1', {}), NOW);
    expect(e.severity).toBe(severity);
    expect(e.labels).toEqual({ run_id: 'r1', cluster: 'c1', namespace: 'ns', job: 'test' });
    expect(e.jsonPayload).toEqual({
      message,
      job: 'test',
      namespace: 'ns',
      outcome: j.result,
      reason: j.reason,
      exitCodes: j.exitCodes,
      attempts: j.attempts,
      durationMs: 1234,
    });
  });
});

describe('takeBatch', () => {
  const entry = (bytes: number) => ({ bytes }) as CloudEntry;
  it.each<[string, number[], number]>([
    ['an empty queue', [], 0],
    ['a few small entries: all', [10, 10, 10], 3],
    ['at most 1000 entries', Array<number>(1500).fill(10), MAX_BATCH_ENTRIES],
    ['at most 8 MB', Array<number>(40).fill(250_000), Math.floor(MAX_BATCH_BYTES / 250_000)],
    ['one entry even when it alone is over', [MAX_BATCH_BYTES + 1, 5], 1],
  ])('%s', (_name, sizes, taken) => {
    const queue = sizes.map(entry);
    const batch = takeBatch(queue);
    expect(batch).toHaveLength(taken);
    expect(queue).toHaveLength(sizes.length - taken);
  });
});

describe('consoleLink', () => {
  it('opens the run query over the run time, a minute either side', () => {
    const link = consoleLink('my-proj', 'kubestep', 'r1', NOW, NOW + 90_000);
    const m =
      /^https:\/\/console\.cloud\.google\.com\/logs\/query;query=([^;]+);timeRange=([^?]+)\?project=my-proj$/.exec(
        link,
      );
    expect(m).not.toBeNull();
    expect(decodeURIComponent(m![1]!)).toBe(
      'logName="projects/my-proj/logs/kubestep"\nlabels.run_id="r1"',
    );
    expect(decodeURIComponent(m![2]!)).toBe('2026-11-23T09:59:00Z/2026-11-23T10:02:30Z');
  });
  it('a log name with a slash is URL-encoded inside logName', () => {
    const link = consoleLink('p', 'ci/tests', 'r1', NOW, NOW);
    expect(decodeURIComponent(link.split(';')[1]!)).toContain(
      'logName="projects/p/logs/ci%2Ftests"',
    );
  });
});
