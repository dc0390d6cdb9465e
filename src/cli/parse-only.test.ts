import { describe, expect, it } from 'vitest';
import { parseOnly } from './parse-only.js';

describe('parseOnly', () => {
  it('gives the command and its typed options', async () => {
    const p = await parseOnly(['run', '-f', 't.yaml', '--timeout', '90s', '--set', 'A=b']);
    expect(p).toMatchObject({
      ok: true,
      command: 'run',
      opts: { files: ['t.yaml'], timeoutMs: 90_000, set: { A: 'b' } },
    });
  });

  it('--junit: absolute patterns work alone (reports only), relative ones with --artifacts', async () => {
    const alone = await parseOnly(['run', '-f', 't.yaml', '--junit', '/app/r/*.xml']);
    expect(alone).toMatchObject({
      ok: true,
      opts: {
        artifacts: {
          withoutArtifacts: true,
          junit: [{ pattern: '/app/r/*.xml', dir: '/app/r', glob: '*.xml' }],
        },
      },
    });
    const both = await parseOnly([
      'run',
      '-f',
      't.yaml',
      '--artifacts',
      'out',
      '--junit',
      'r/*.junit',
    ]);
    expect(both).toMatchObject({
      ok: true,
      opts: { artifacts: { dir: 'out', junit: [{ glob: 'r/*.junit' }] } },
    });
  });

  it('wait: a repeatable flag takes one value, the Jobs stay positional', async () => {
    const p = await parseOnly([
      'wait',
      '--artifacts',
      'd',
      '--junit',
      'r/*.xml',
      '--sidecar',
      'proxy',
      'job/x',
    ]);
    expect(p).toMatchObject({
      ok: true,
      opts: { names: ['x'], sidecars: ['proxy'], artifacts: { junit: [{ glob: 'r/*.xml' }] } },
    });
  });

  it('deploy: files, variables, the rollout limits', async () => {
    const p = await parseOnly([
      'deploy',
      '-f',
      'app.yaml',
      '--set',
      'IMAGE=app:2',
      '--rollout-timeout',
      '3m',
      '--max-restarts',
      '1',
      '--force-conflicts',
    ]);
    expect(p).toMatchObject({
      ok: true,
      command: 'deploy',
      opts: {
        files: ['app.yaml'],
        set: { IMAGE: 'app:2' },
        timeoutMs: 180_000,
        maxRestarts: 1,
        readinessGraceMs: 120_000,
        force: true,
      },
    });
    const deps = await parseOnly(['deploy', '-f', 'a.yaml', '--deps', 'pg.yaml']);
    expect(deps).toMatchObject({ ok: false, code: 2 });
  });

  it('--shards N', async () => {
    const p = await parseOnly(['run', '-f', 't.yaml', '--shards', '4']);
    expect(p).toMatchObject({ ok: true, opts: { shards: 4 } });
  });

  it('--env names the credential-like variables that ${NAME} may read', async () => {
    const p = await parseOnly(['run', '-f', 't.yaml', '--env', 'DB_PASSWORD', '--env', 'API_KEY']);
    expect(p).toMatchObject({ ok: true, opts: { allowEnv: ['DB_PASSWORD', 'API_KEY'] } });
  });

  it.each([
    [['run', '-f', 't.yaml', '--no-such-flag'], /unknown option --no-such-flag/],
    [['run', '-f', 't.yaml', '--timeout', 'soon'], /--timeout/],
    [['run'], /-f FILE is required/],
    [['run', '-f', 't.yaml', '-n', 'Bad_NS'], /--namespace "Bad_NS" must consist of lower case/],
    [['gc', '--cleanup', 'never'], /unknown option --cleanup/],
    [['run', '-f', 't.yaml', '--env', 'NOT-A-NAME'], /--env "NOT-A-NAME" is not a variable name/],
    [
      ['run', '-f', 't.yaml', '--junit', 'reports/*.xml'],
      /--junit "reports\/\*\.xml" is a path under \$ARTIFACTS: give --artifacts DIR too/,
    ],
    [['run', '-f', 't.yaml', '--fail-on-test-failures'], /give --artifacts DIR or --junit/],
    [['wait', 'job/x', '--junit', '/app/r/*.xml'], /kubestep wait cannot mount a directory/],
    [['run', '-f', 't.yaml', '--junit', '/*.xml'], /needs a directory before its file pattern/],
    [['run', '-f', 't.yaml', '--shards', '0'], /--shards 0: give a whole number from 1 to 200/],
    [['run', '-f', 't.yaml', '--shards', '2.5'], /--shards 2.5: give a whole number/],
  ])('refuses %j with exit 2', async (argv, message) => {
    const p = await parseOnly(argv);
    expect(p.ok).toBe(false);
    if (!p.ok) {
      expect(p.code).toBe(2);
      expect(p.error).toMatch(message);
    }
  });
});
