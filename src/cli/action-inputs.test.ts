import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { ACTION_INPUTS, actionOutputs, actionPlan } from './action-inputs.js';
import { parseOnly } from './parse-only.js';

const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters: []\n';

describe('actionPlan', () => {
  it.each<[string, Record<string, string>, string[]]>([
    ['only manifests', { INPUT_MANIFESTS: 'k8s/tests.yaml' }, ['run', '-f', 'k8s/tests.yaml']],
    [
      'every run input',
      {
        INPUT_COMMAND: 'run',
        INPUT_MANIFESTS: ' a.yaml \n\n b.yaml\n',
        INPUT_DEPS: 'pg.yaml',
        INPUT_SET: 'IMAGE=app:1\nTAG=x=y',
        'INPUT_SET-SECRET': 'TOKEN=abcdefgh',
        'INPUT_RUN-ID': 'r1',
        INPUT_NAMESPACE: 'ci',
        INPUT_TIMEOUT: '30m',
        INPUT_CONTEXT: 'gke',
        INPUT_CLEANUP: 'on-success',
        'INPUT_CLOUD-LOGGING': 'true',
        INPUT_PROJECT: 'p',
        'INPUT_GKE-CLUSTER': 'projects/p/locations/l/clusters/c',
        'INPUT_GKE-ENDPOINT': 'dns',
        INPUT_KUBECONFIG: 'ci/kubeconfig',
        INPUT_ARTIFACTS: 'out/artifacts',
        'INPUT_JUNIT-REPORT': 'out/junit.xml',
        INPUT_ARGS: '--replace\n--image-pull-grace 30s',
      },
      [
        'run',
        '-f',
        'a.yaml',
        '-f',
        'b.yaml',
        '--deps',
        'pg.yaml',
        '--set',
        'IMAGE=app:1',
        '--set',
        'TAG=x=y',
        '--set-secret',
        'TOKEN=abcdefgh',
        '--run-id',
        'r1',
        '--namespace',
        'ci',
        '--timeout',
        '30m',
        '--context',
        'gke',
        '--cleanup',
        'on-success',
        '--project',
        'p',
        '--gke-cluster',
        'projects/p/locations/l/clusters/c',
        '--gke-endpoint',
        'dns',
        '--artifacts',
        'out/artifacts',
        '--junit-report',
        'out/junit.xml',
        '--cloud-logging',
        '--kubeconfig',
        'ci/kubeconfig',
        '--replace',
        '--image-pull-grace',
        '30s',
      ],
    ],
    [
      'empty inputs are not set',
      {
        INPUT_MANIFESTS: 't.yaml',
        INPUT_NAMESPACE: '',
        INPUT_DEPS: '  ',
        'INPUT_CLOUD-LOGGING': 'false',
      },
      ['run', '-f', 't.yaml'],
    ],
    [
      'a log name for cloud-logging',
      { INPUT_MANIFESTS: 't.yaml', 'INPUT_CLOUD-LOGGING': 'ci-tests' },
      ['run', '-f', 't.yaml', '--cloud-logging=ci-tests'],
    ],
    [
      'wait with Jobs',
      { INPUT_COMMAND: 'wait', INPUT_JOBS: 'job/a\njob/b', INPUT_TIMEOUT: '5m' },
      ['wait', 'job/a', 'job/b', '--timeout', '5m'],
    ],
    [
      'wait with a selector',
      { INPUT_COMMAND: 'wait', INPUT_SELECTOR: 'suite=e2e' },
      ['wait', '-l', 'suite=e2e'],
    ],
    [
      'deploy with a rollout timeout and a rollback',
      {
        INPUT_COMMAND: 'deploy',
        INPUT_MANIFESTS: 'k8s/app.yaml',
        INPUT_SET: 'IMAGE=web:2',
        INPUT_NAMESPACE: 'staging',
        INPUT_TIMEOUT: '5m',
        INPUT_ARGS: '--rollback-on-failure',
      },
      [
        'deploy',
        '-f',
        'k8s/app.yaml',
        '--set',
        'IMAGE=web:2',
        '--namespace',
        'staging',
        '--rollout-timeout',
        '5m',
        '--rollback-on-failure',
      ],
    ],
  ])('%s', async (_name, env, argv) => {
    const plan = actionPlan(env);
    expect(plan.argv).toEqual(argv);
    expect(plan.kubeconfigContent).toBeUndefined();
    // The real parser takes it.
    const parsed = await parseOnly(plan.argv);
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
  });

  it('a kubeconfig given as content is written by the action, not passed as a path', () => {
    const plan = actionPlan({ INPUT_MANIFESTS: 't.yaml', INPUT_KUBECONFIG: KUBECONFIG });
    expect(plan.kubeconfigContent).toBe(KUBECONFIG);
    expect(plan.argv).not.toContain('--kubeconfig');
  });

  it.each([
    [{}, /input manifests: give at least one file/],
    [{ INPUT_COMMAND: 'gc' }, /input command: "gc" is not run, wait or deploy/],
  ])('refuses %j', (env, message) => {
    expect(() => actionPlan(env)).toThrow(UsageError);
    expect(() => actionPlan(env)).toThrow(message);
  });
});

describe('actionOutputs', () => {
  const o = (kind: Outcome['kind']) =>
    ({ kind, reason: 'InfraError', jobs: [], message: 'm' }) as unknown as Outcome;
  it.each([
    [o('succeeded'), '{\n  "exitCode": 0\n}\n', 'result=passed\nsummary-json={"exitCode":0}\n'],
    [o('failed'), '{"exitCode": 1}', 'result=failed\nsummary-json={"exitCode":1}\n'],
    [o('timed-out'), '{"exitCode": 1}', 'result=failed\nsummary-json={"exitCode":1}\n'],
    [o('infra-error'), undefined, 'result=error\nsummary-json={}\n'],
    [
      o('bad-input'),
      'not json',
      'result=error\nsummary-json={"error":"the result file is not JSON"}\n',
    ],
    [
      { kind: 'cancelled', reason: 'Cancelled', jobs: [], signal: 'SIGINT' } satisfies Outcome,
      undefined,
      'result=error\nsummary-json={}\n',
    ],
  ] satisfies [Outcome, string | undefined, string][])('%o', (outcome, json, out) => {
    expect(actionOutputs(outcome, json)).toBe(out);
  });

  it("sets the tests' $KUBESTEP_OUTPUT values as step outputs, multi-line ones in a heredoc", () => {
    const json = JSON.stringify({
      exitCode: 0,
      outputs: { IMAGE: 'gcr.io/p/app:1', NOTES: 'a\nb', result: 'spoofed', 'bad name': 'x' },
    });
    const text = actionOutputs(o('succeeded'), json);
    const lines = text.split('\n');
    expect(lines[0]).toBe('result=passed');
    const blocks = [...text.matchAll(/^([\w-]+)<<(kubestep_[0-9a-f]{24})\n([\s\S]*?)\n\2$/gm)].map(
      (m) => [m[1], m[3]],
    );
    expect(blocks).toEqual([
      ['IMAGE', 'gcr.io/p/app:1'],
      ['NOTES', 'a\nb'],
    ]);
    // Only in summary-json: a test cannot set the action's own `result`.
    expect(lines.filter((l) => l.startsWith('result')).map((l) => l.slice(0, 12))).toEqual([
      'result=passe',
    ]);
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
    inputs: Record<string, { description: string; required?: boolean; default?: string }>;
    outputs: Record<string, { description: string }>;
    runs: { using: string; image: string; args: string[] };
  };

  it('is a Docker container action on a prebuilt image, entering kubestep github-action', () => {
    expect(action.runs.using).toBe('docker');
    expect(action.runs.image).toMatch(/^docker:\/\/[\w.-]+\/[\w./-]+:[\w.-]+$/);
    expect(action.runs.args).toEqual(['github-action']);
  });

  it('declares exactly the inputs that actionPlan reads, none required, and the two outputs', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.keys(ACTION_INPUTS).sort());
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description, name).toBeTruthy();
      expect(input.required ?? false, name).toBe(false);
    }
    expect(Object.keys(action.outputs).sort()).toEqual(['result', 'summary-json']);
  });

  it('the image tag is the package version', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(action.runs.image.endsWith(`:${pkg.version}`)).toBe(true);
  });
});

describe('.github/workflows/release.yml', () => {
  it('publishes the image that action.yml runs', () => {
    const text = readFileSync(
      new URL('../../.github/workflows/release.yml', import.meta.url),
      'utf8',
    );
    const action = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
      runs: { image: string };
    };
    const repo = action.runs.image.replace(/^docker:\/\//, '').replace(/:[^:/]+$/, '');
    const workflow = parse(text) as { on: { push: { tags: string[] } } };
    expect(workflow.on.push.tags).toEqual(['v*.*.*']);
    expect(text).toContain(`images: ${repo}\n`);
    expect(text).toContain('type=semver,pattern={{version}}');
  });
});
