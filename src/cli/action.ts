// `kubestep github-action`: the entry of the GitHub Action (action.yml). Reads the inputs from the
// environment, runs `run` or `wait` with --output json, and writes the step outputs.
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionOutputs, actionPlan } from './action-inputs.js';
import type { Outcome } from '../core/outcome.js';
import type { Io } from './run-command.js';

/**
 * Runs the command that the action's inputs (`INPUT_*`) describe through `runCli`, then appends
 * `result` and `summary-json` to `$GITHUB_OUTPUT` (when set). A kubeconfig given as content is
 * written to a private temporary file (mode 0600) and removed afterwards. Returns the command's
 * outcome; throws UsageError for inputs that make no command line.
 */
export async function actionCommand(
  io: Io,
  runCli: (argv: string[]) => Promise<Outcome>,
): Promise<Outcome> {
  const plan = actionPlan(io.env);
  const dir = await mkdtemp(join(tmpdir(), 'kubestep-action-'));
  try {
    const argv = [...plan.argv];
    if (plan.kubeconfigContent !== undefined) {
      const file = join(dir, 'kubeconfig');
      await writeFile(file, plan.kubeconfigContent, { mode: 0o600 });
      argv.push('--kubeconfig', file);
    }
    const resultFile = join(dir, 'result.json');
    argv.push('--output', 'json', '--output-file', resultFile);
    const outcome = await runCli(argv);
    const result = await readFile(resultFile, 'utf8').catch(() => undefined);
    const outputFile = io.env.GITHUB_OUTPUT;
    if (outputFile) await appendFile(outputFile, actionOutputs(outcome, result));
    return outcome;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
