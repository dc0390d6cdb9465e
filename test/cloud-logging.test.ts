// --cloud-logging against a Cloud Logging stand-in on loopback (the library's REST transport),
// with credentials from a metadata-server stand-in.
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoggingApi, startMetadataServer, TokenBook, type StandIn } from './gcp-stand-ins.js';
import { CLI, jobYaml, kubectl, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('cloud');

type Entry = {
  severity?: string;
  labels?: Record<string, string>;
  jsonPayload?: Record<string, unknown>;
  split?: { uid: string; index: number; totalSplits: number };
};

describe('--cloud-logging', () => {
  const tokens = new TokenBook(3_600_000);
  let meta: StandIn;
  let api: Awaited<ReturnType<typeof startLoggingApi>>;
  const env = (extra: Record<string, string> = {}) => ({
    HOME: mkdtempSync(join(tmpdir(), 'kubestep-home-')),
    GCE_METADATA_HOST: meta.host,
    METADATA_SERVER_DETECTION: 'assume-present',
    KUBESTEP_LOGGING_API_ENDPOINT: `http://${api.host}`,
    ...extra,
  });
  const entriesOf = (runId: string) =>
    (api.entries() as Entry[]).filter((e) => e.labels?.run_id === runId);

  beforeAll(async () => {
    meta = await startMetadataServer({ project: 'logs-project', tokens, expiresInSeconds: 3600 });
    api = await startLoggingApi({ tokens });
  });
  afterAll(async () => {
    await Promise.all([meta?.close(), api?.close()]);
  });

  it('writes every line of a 10,000-line run once, labelled, through 429s and a 503; one summary entry', async () => {
    // The first write is refused twice (429), the second goes through, the third gets a 503.
    api.script([429, 429, 200, 503]);
    const failedBefore = api.failed;
    const f = manifestFile(
      jobYaml('many', 'i=1; while [ $i -le 10000 ]; do echo "line $i"; i=$((i+1)); done'),
    );
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--run-id', 'many1', '--cloud-logging'], {
      env: env({ BUILD_ID: 'build-77' }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(api.failed - failedBefore).toBe(3);
    const lines = entriesOf('many1').filter((e) => e.severity === 'DEFAULT');
    const seqs = lines.map((e) => Number(e.jsonPayload?.seq));
    expect(lines).toHaveLength(10_000);
    expect(new Set(seqs).size).toBe(10_000);
    expect(lines.map((e) => e.jsonPayload?.message)).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `line ${i + 1}`),
    );
    const pod = lines[0]!.labels!.pod!;
    expect(pod).toMatch(/^many-/);
    expect(lines[0]!.labels).toEqual({
      run_id: 'many1',
      build_id: 'build-77',
      cluster: 'c', // the harness kubeconfig's cluster name
      namespace: t.ns,
      pod,
      container: 'main',
      job: 'many',
    });
    expect(lines[0]!.jsonPayload).toMatchObject({ pod, container: 'main', job: 'many', seq: 1 });
    const summaries = entriesOf('many1').filter((e) => e.severity !== 'DEFAULT');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      severity: 'INFO',
      jsonPayload: { outcome: 'Complete', job: 'many', exitCodes: [0] },
    });
    expect(api.writes.every((w) => w.logName === 'projects/logs-project/logs/kubestep')).toBe(true);
    expect(r.stderr).toContain(
      "cloud logging: 10001 entries in log kubestep; the run's query: https://console.cloud.google.com/logs/query;query=",
    );
    expect(r.stderr).toContain(encodeURIComponent('labels.run_id="many1"'));
    expect(r.stderr).not.toContain('could not be written');
    console.log(`cloud logging: ${api.writes.length} requests for 10,001 entries`);
  });

  it('splits a line longer than an entry may be, and reports a failed Job as ERROR (the bundle alone, no node_modules)', async () => {
    // A copy of build/ where no node_modules can be found: the library must come from the bundle.
    const alone = mkdtempSync(join(tmpdir(), 'kubestep-bundle-'));
    cpSync(dirname(CLI), alone, { recursive: true });
    expect(existsSync(join(alone, 'node_modules'))).toBe(false);
    // 300,000 characters: more than 240 KiB of message per entry.
    const f = manifestFile(
      jobYaml('long', "yes x | head -n 300000 | tr -d '\\n'; echo; echo short; exit 3"),
    );
    const r = await runCli(
      ['run', '-f', f, '-n', t.ns, '--run-id', 'long1', '--cloud-logging=ci-tests'],
      { env: env(), cli: join(alone, 'kubestep.mjs') },
    );
    expect(r.code, r.stderr).toBe(1);
    // The CI log has the line whole too (the kubelet sends it in 16 KiB partial entries).
    expect(r.stdout).toBe(`${'x'.repeat(300_000)}\nshort\n`);
    const all = entriesOf('long1');
    const parts = all.filter((e) => e.split);
    expect(parts.map((e) => e.split!.index)).toEqual([0, 1]);
    expect(
      parts.every((e) => e.split!.totalSplits === 2 && e.split!.uid === parts[0]!.split!.uid),
    ).toBe(true);
    expect(parts.map((e) => e.jsonPayload!.message as string).join('')).toBe('x'.repeat(300_000));
    expect(all.some((e) => e.jsonPayload?.message === 'short')).toBe(true);
    const summary = all.find((e) => e.severity === 'ERROR');
    expect(summary?.jsonPayload).toMatchObject({ outcome: 'Failed', exitCodes: [3], job: 'long' });
    expect(api.writes.some((w) => w.logName === 'projects/logs-project/logs/ci-tests')).toBe(true);
  });

  it('hides --set-secret values in line and summary entries', async () => {
    // The secret in the Job's name reaches the summary entry (job, explanation, pod names) and in
    // the pod's output the line entries.
    const f = manifestFile(jobYaml('leak-${TAG}', 'echo "tag is $(hostname)"; exit 2'));
    const r = await runCli(
      [
        'run',
        '-f',
        f,
        '-n',
        t.ns,
        '--run-id',
        'leak1',
        '--cloud-logging',
        '--set-secret',
        'TAG=zq7sekrit',
      ],
      { env: env() },
    );
    expect(r.code, r.stderr).toBe(1);
    const all = entriesOf('leak1');
    const summary = all.find((e) => e.severity === 'ERROR');
    expect(summary?.jsonPayload).toMatchObject({ outcome: 'Failed', job: 'leak-***' });
    expect(summary?.labels?.job).toBe('leak-***');
    expect(String(summary?.jsonPayload?.message)).toMatch(
      /^job\/leak-\*\*\* Failed \(BackoffLimitExceeded\): .*pod\/leak-\*\*\*-\w+ exited with code 2$/,
    );
    expect(all.find((e) => e.severity === 'DEFAULT')?.jsonPayload?.message).toMatch(
      /^tag is leak-\*\*\*-\w+$/,
    );
    expect(JSON.stringify(all)).not.toContain('zq7sekrit');
  });

  it('kubestep wait --cloud-logging: the lines and the result of a Job that kubectl created', async () => {
    await kubectl(['apply', '-n', t.ns, '-f', '-'], jobYaml('waited', 'echo w1; echo w2; exit 5'));
    const r = await runCli(['wait', 'job/waited', '-n', t.ns, '--cloud-logging'], {
      env: env({ GITHUB_RUN_ID: '900', GITHUB_RUN_ATTEMPT: '3' }),
    });
    expect(r.code, r.stderr).toBe(1);
    const all = entriesOf('900-3'); // the run id comes from GITHUB_RUN_ID too
    expect(all.filter((e) => e.severity === 'DEFAULT').map((e) => e.jsonPayload?.message)).toEqual([
      'w1',
      'w2',
    ]);
    expect(all.every((e) => e.labels?.build_id === '900-3' && e.labels.job === 'waited')).toBe(
      true,
    );
    expect(all.find((e) => e.severity === 'ERROR')?.jsonPayload).toMatchObject({
      outcome: 'Failed',
      exitCodes: [5],
    });
  });

  it('without credentials: a warning, and the Job passes with exit 0', async () => {
    const f = manifestFile(jobYaml('nocreds', 'echo fine'));
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--cloud-logging'], {
      env: env({ GCE_METADATA_HOST: '127.0.0.1:1', METADATA_SERVER_DETECTION: 'none' }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('fine\n');
    expect(r.stderr).toMatch(
      /warning: --cloud-logging is off: no Google credentials .*The run goes on/,
    );
  });

  it('when the credentials stop working during the run: a warning, exit 0, the process survives', async () => {
    // One token, valid for a second: the library must fetch another for its first write, and
    // the metadata server refuses it.
    const once = await startMetadataServer({
      project: 'logs-project',
      tokens,
      expiresInSeconds: 1,
      maxTokens: 1,
    });
    try {
      const f = manifestFile(jobYaml('vanish', 'echo one; sleep 2; echo two'));
      const r = await runCli(['run', '-f', f, '-n', t.ns, '--cloud-logging', '--grace', '5s'], {
        env: env({ GCE_METADATA_HOST: once.host }),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('one\ntwo\n');
      expect(r.stderr).toMatch(
        /cloud logging: \d+ entries could not be written \(not a test failure\)/,
      );
      expect(r.stderr).toContain('PASSED');
    } finally {
      await once.close();
    }
  });

  it('when Cloud Logging keeps failing: a warning with the count, exit 0, within --grace', async () => {
    api.fail(1_000_000, 500);
    try {
      const f = manifestFile(jobYaml('down', 'echo a; echo b'));
      const r = await runCli(['run', '-f', f, '-n', t.ns, '--cloud-logging', '--grace', '5s'], {
        env: env(),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /cloud logging: \d+ entries could not be written \(not a test failure\)/,
      );
      expect(r.ms).toBeLessThan(60_000);
    } finally {
      api.fail(0, 500);
    }
  });
});
