// cloudbuild.yaml (kubestep's pipeline) and examples/pipeline/cloudbuild.yaml: structure, and every
// kubestep step's command line through the real parser, with the files it names present.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseOnly } from './parse-only.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Step {
  id: string;
  name: string;
  args?: string[];
  env?: string[];
  secretEnv?: string[];
  entrypoint?: string;
}
interface Build {
  substitutions: Record<string, string>;
  availableSecrets?: { secretManager: { versionName: string; env: string }[] };
  steps: Step[];
  images?: string[];
}

/** Built-in substitutions of Cloud Build. Source: https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values */
const BUILT_IN = new Set([
  'PROJECT_ID',
  'BUILD_ID',
  'PROJECT_NUMBER',
  'LOCATION',
  'TRIGGER_NAME',
  'COMMIT_SHA',
  'REVISION_ID',
  'SHORT_SHA',
  'REPO_NAME',
  'REPO_FULL_NAME',
  'BRANCH_NAME',
  'TAG_NAME',
  'REF_NAME',
  'TRIGGER_BUILD_CONFIG_PATH',
  'SERVICE_ACCOUNT_EMAIL',
  'SERVICE_ACCOUNT',
]);

/** Replaces $X and ${X} the way Cloud Build would, with `values` (and `x-X` for built-ins). */
function substitute(text: string, values: Record<string, string>): string {
  let out = text;
  for (let i = 0; i < 5 && /\$\{?\w/.test(out); i++) {
    out = out.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a?: string, b?: string) => {
      const name = (a ?? b)!;
      return values[name] ?? (BUILT_IN.has(name) ? `x-${name.toLowerCase()}` : `<${name}?>`);
    });
  }
  return out;
}

describe.each([
  ['cloudbuild.yaml', ROOT, '_IMAGE'],
  ['examples/pipeline/cloudbuild.yaml', join(ROOT, 'examples/pipeline'), '_KUBESTEP'],
])('%s', (file, workspace, kubestepSub) => {
  const build = parse(readFileSync(join(ROOT, file), 'utf8')) as Build;
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^\s*#.*$/gm, '');
  const kubestepSteps = build.steps.filter((s) => s.name === `\${${kubestepSub}}`);

  it('uses only substitutions that it defines or that Cloud Build has', () => {
    const used = [...text.matchAll(/\$\{(\w+)\}|\$(\w+)/g)].map((m) => (m[1] ?? m[2])!);
    for (const name of used) {
      expect(name in build.substitutions || BUILT_IN.has(name), name).toBe(true);
    }
    expect(new Set(build.steps.map((s) => s.id)).size).toBe(build.steps.length);
  });

  it('has kubestep steps whose command lines parse, name files that exist, and get the build id', async () => {
    expect(kubestepSteps.length).toBeGreaterThan(0);
    for (const step of kubestepSteps) {
      const env = Object.fromEntries(
        (step.env ?? [])
          .map((e) => substitute(e, build.substitutions))
          .map((e) => e.split(/=(.*)/s).slice(0, 2)),
      ) as Record<string, string>;
      const argv = (step.args ?? []).map((a) => substitute(a, build.substitutions));
      const parsed = await parseOnly(argv, env);
      expect(parsed.ok, `${step.id}: ${JSON.stringify(parsed)}`).toBe(true);
      if (!parsed.ok) continue;
      const opts = parsed.opts as { files?: string[]; deps?: string[] };
      for (const f of [...(opts.files ?? []), ...(opts.deps ?? [])]) {
        expect(existsSync(join(workspace, f)), `${step.id}: ${f}`).toBe(true);
      }
      if (parsed.command === 'run') expect(env.BUILD_ID, step.id).toBe('x-build_id');
      const tokenEnv = argv[argv.indexOf('--token-env') + 1];
      if (argv.includes('--server')) {
        // An environment's own token: a secret of the build, given to this step only.
        expect(step.secretEnv, step.id).toEqual([tokenEnv]);
        const secrets = build.availableSecrets?.secretManager.map((m) => m.env);
        expect(secrets, step.id).toContain(tokenEnv);
      } else {
        // GKE without gcloud: the cluster from Cloud Build's kubectl-builder variables.
        expect(env.CLOUDSDK_CONTAINER_CLUSTER, step.id).toBeTruthy();
        expect(env.CLOUDSDK_COMPUTE_REGION ?? env.CLOUDSDK_COMPUTE_ZONE, step.id).toBeTruthy();
      }
    }
  });

  it('builds every image it pushes from a Dockerfile that exists', () => {
    const builds = build.steps
      .filter((s) => s.name === 'gcr.io/cloud-builders/docker')
      .flatMap((s) =>
        s.entrypoint === 'bash'
          ? [...s.args!.join(' ').matchAll(/docker build (.*?)(?:&&|$)/g)].map((m) =>
              m[1]!.trim().split(/\s+/),
            )
          : s.args?.[0] === 'build'
            ? [s.args]
            : [],
      );
    const tags: string[] = [];
    for (const args of builds) {
      const tag = args[args.indexOf('-t') + 1]!;
      tags.push(tag);
      const context = args.at(-1)!;
      const dockerfile = args.includes('-f')
        ? args[args.indexOf('-f') + 1]!
        : join(context, 'Dockerfile');
      if (file === 'cloudbuild.yaml')
        expect(existsSync(join(workspace, dockerfile)), dockerfile).toBe(true);
    }
    expect(build.images?.sort()).toEqual(tags.sort());
  });
});

it('examples/pipeline: its postgres.yaml is the shared example', () => {
  expect(readFileSync(join(ROOT, 'examples/pipeline/k8s/postgres.yaml'), 'utf8')).toBe(
    readFileSync(join(ROOT, 'examples/postgres.yaml'), 'utf8'),
  );
});
