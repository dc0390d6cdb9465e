// examples/pipeline/github-workflow.yaml: every kubestep step's inputs become a command line that
// the real parser takes, naming files that exist; each environment's jobs use their own secret.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionPlan } from './action-inputs.js';
import { parseOnly } from './parse-only.js';

const DIR = fileURLToPath(new URL('../../examples/pipeline', import.meta.url));

interface Workflow {
  jobs: Record<
    string,
    {
      needs?: string;
      environment?: string;
      steps: { uses?: string; with?: Record<string, string> }[];
    }
  >;
}

it('examples/pipeline/github-workflow.yaml: kubestep steps parse, files exist, production after staging with its own secret', async () => {
  const wf = parse(readFileSync(join(DIR, 'github-workflow.yaml'), 'utf8')) as Workflow;
  const commands: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    for (const step of job.steps.filter((s) => s.uses?.startsWith('kubestep/kubestep@'))) {
      const env = Object.fromEntries(
        Object.entries(step.with ?? {}).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
      );
      const plan = actionPlan(env);
      const parsed = await parseOnly(plan.argv, {});
      expect(parsed.ok, `${id}: ${JSON.stringify(parsed)}`).toBe(true);
      if (!parsed.ok) continue;
      commands.push(`${id}:${parsed.command}`);
      const opts = parsed.opts as { files?: string[]; deps?: string[] };
      for (const f of [...(opts.files ?? []), ...(opts.deps ?? [])])
        expect(existsSync(join(DIR, f)), `${id}: ${f}`).toBe(true);
      // Deploy steps use the kubeconfig of their job's environment, never another's.
      if (job.environment) expect(step.with?.kubeconfig).toBe('${{ secrets.KUBECONFIG }}');
    }
  }
  expect(commands).toEqual([
    'tests:run',
    'deploy-staging:deploy',
    'deploy-staging:run',
    'deploy-production:deploy',
    'deploy-production:deploy',
  ]);
  expect(wf.jobs['deploy-production']).toMatchObject({
    needs: 'deploy-staging',
    environment: 'production',
  });
  expect(wf.jobs['deploy-staging']).toMatchObject({ needs: 'tests', environment: 'staging' });
});
