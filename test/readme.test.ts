// README.md's quick starts, run against the local cluster as far as they go without Google Cloud
// or Docker: the Cloud Build step with a kubeconfig instead of GKE, the GitHub Action through its
// entry point, the docker run and source commands' kubestep arguments with the bundle. The image
// busybox:1.36 becomes busybox:local, namespace ci the test's namespace.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nodeVersionProblem } from '../src/core/node-version.js';
import { runCli, useTestNamespace } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const ACTION = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { image: string } };
const IMAGE = ACTION.runs.image.replace(/^docker:\/\//, '');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

const t = useTestNamespace('readme');

/** The fenced code block right after `<!-- quickstart: NAME -->`. */
function quickstart(name: string): string {
  const at = README.indexOf(`<!-- quickstart: ${name} -->`);
  expect(at, `README has quickstart ${name}`).toBeGreaterThan(0);
  const m = /```\w*\n([\s\S]*?)```/.exec(README.slice(at));
  return m![1]!;
}

/** Words of a shell command line: continuation lines joined, quotes removed (no expansions). */
function shellWords(text: string): string[] {
  const line = text.replace(/\\\n/g, ' ');
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

const local = (v: string) => (v === 'ci' ? t.ns : v.replaceAll('busybox:1.36', 'busybox:local'));

describe('README quick start', () => {
  it('Cloud Build: the step passes (the cluster from a kubeconfig here, not GKE)', async () => {
    const build = parse(quickstart('cloudbuild')) as {
      steps: { name: string; env: string[]; args: string[] }[];
    };
    const [step] = build.steps;
    expect(step!.name).toBe(IMAGE);
    const env = Object.fromEntries(
      step!.env.map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]),
    ) as Record<string, string>;
    expect(env.CLOUDSDK_CONTAINER_CLUSTER).toBeTruthy();
    delete env.CLOUDSDK_CONTAINER_CLUSTER;
    delete env.CLOUDSDK_COMPUTE_REGION;
    const r = await runCli(step!.args.map(local), {
      cwd: ROOT,
      env: { ...env, BUILD_ID: 'readme-cb', TEST_IMAGE: local(env.TEST_IMAGE!) },
    });
    expect(r.code, r.stderr).toBe(0);
    // BUILD_ID and a random suffix: unique per step.
    expect(r.stdout).toMatch(/^running tests of run readme-cb-[0-9a-f]{6}\n3 passed, 0 failed\n$/);
  });

  it('GitHub Actions: the action step passes and outputs result=passed', async () => {
    const workflow = parse(quickstart('github')) as {
      jobs: { tests: { steps: { uses?: string; with?: Record<string, string> }[] } };
    };
    const step = workflow.jobs.tests.steps.find((s) => s.uses?.startsWith('kubestep/kubestep@'))!;
    expect(step.uses).toBe(`kubestep/kubestep@v${VERSION}`);
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-readme-'));
    const output = join(dir, 'output');
    writeFileSync(output, '');
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.with!)) {
      inputs[`INPUT_${k.toUpperCase()}`] =
        k === 'kubeconfig' ? readFileSync(t.kubeconfig, 'utf8') : local(v);
    }
    const r = await runCli(['github-action'], {
      cwd: ROOT,
      env: {
        ...inputs,
        KUBECONFIG: '',
        GITHUB_ACTIONS: 'true',
        GITHUB_OUTPUT: output,
        GITHUB_RUN_ID: '77',
        GITHUB_RUN_ATTEMPT: '1',
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 passed, 0 failed');
    expect(readFileSync(output, 'utf8')).toMatch(/^result=passed$/m);
  });

  it('docker run: the arguments after the image pass', async () => {
    const words = shellWords(quickstart('docker'));
    expect(words.slice(0, 2)).toEqual(['docker', 'run']);
    const at = words.indexOf(IMAGE);
    expect(at).toBeGreaterThan(0);
    expect(words).toContain('KUBECONFIG=/kube/config');
    const r = await runCli(words.slice(at + 1).map(local), {
      cwd: ROOT,
      env: { BUILD_ID: 'readme-docker' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 passed, 0 failed');
  });

  it('from source: the dry run, then the run pass', async () => {
    const [check, run] = quickstart('source')
      .split('\n')
      .filter((l) => l.startsWith('node build/kubestep.mjs'));
    const dry = await runCli(shellWords(check!).slice(2).map(local), {
      cwd: ROOT,
      env: { BUILD_ID: 'readme-dry' },
    });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain('DRY RUN: the server accepts every object');
    expect(dry.stdout).toBe('');
    const r = await runCli(shellWords(run!).slice(2).map(local), {
      cwd: ROOT,
      env: { BUILD_ID: 'readme-src' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 passed, 0 failed');
  });

  it('shows the line kubestep prints on a Node.js older than supported', () => {
    const shown = README.split('\n').find((l) => l.includes('kubestep needs Node.js'))!;
    expect(shown).toBe(`kubestep: error: ${nodeVersionProblem('20.20.2')!}`);
  });
});
