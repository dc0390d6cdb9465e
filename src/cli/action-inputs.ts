// The GitHub Action's inputs (action.yml) as a kubestep command line. Pure.
import type { Outcome } from '../core/outcome.js';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../core/errors.js';

/**
 * The inputs of action.yml, each with the flag it becomes. GitHub gives a Docker action its
 * inputs as `INPUT_<NAME>` (upper case, hyphens kept) and an input that was not given as ''.
 * Source: https://docs.github.com/en/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions#inputs
 */
export const ACTION_INPUTS = {
  command: 'run (default), wait or deploy',
  manifests: '-f: manifest files (Jobs for run, any objects for deploy), one per line',
  deps: '--deps: dependency manifest files, one per line',
  jobs: 'wait: the Jobs (job/NAME), one per line',
  selector: 'wait -l: a label selector of the Jobs',
  namespace: '-n',
  timeout: '--timeout (deploy: --rollout-timeout)',
  kubeconfig: '--kubeconfig: a kubeconfig file, or its content',
  context: '--context',
  set: '--set: NAME=VALUE, one per line',
  'set-secret': '--set-secret: NAME=VALUE, one per line',
  'run-id': '--run-id',
  cleanup: '--cleanup',
  'cloud-logging': "--cloud-logging: 'true', or a log name",
  project: '--project',
  'gke-cluster': '--gke-cluster',
  'gke-endpoint': '--gke-endpoint',
  artifacts: '--artifacts: a directory in the workspace for what the tests write to $ARTIFACTS',
  'junit-report': '--junit-report: one JUnit XML file for the run',
  args: 'more flags, one per line (a line may hold a flag and its value)',
} as const;

/** The name of one input of action.yml. */
export type ActionInput = keyof typeof ACTION_INPUTS;

/** What the action runs: `argv` for kubestep, and the kubeconfig to write first, if any. */
export interface ActionPlan {
  argv: string[];
  /** The `kubeconfig` input held a kubeconfig, not a path: write it and pass --kubeconfig. */
  kubeconfigContent?: string;
}

/**
 * The command line for the action's inputs in `env`. Empty inputs are not set; lists are one item
 * per line (blank lines and surrounding spaces ignored). A `kubeconfig` input with a line break
 * or `apiVersion:` in it is content, otherwise a path. Throws UsageError for an unknown command,
 * or for `manifests` missing with `run` or `deploy`.
 */
export function actionPlan(env: Readonly<Record<string, string | undefined>>): ActionPlan {
  const input = (name: ActionInput) => (env[`INPUT_${name.toUpperCase()}`] ?? '').trim();
  const lines = (name: ActionInput) =>
    input(name)
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const command = input('command') || 'run';
  if (command !== 'run' && command !== 'wait' && command !== 'deploy') {
    throw new UsageError(`input command: ${JSON.stringify(command)} is not run, wait or deploy`);
  }
  const argv: string[] = [command];
  if (command === 'run' || command === 'deploy') {
    const manifests = lines('manifests');
    if (manifests.length === 0) throw new UsageError('input manifests: give at least one file');
    for (const f of manifests) argv.push('-f', f);
    for (const f of lines('deps')) argv.push('--deps', f);
    for (const kv of lines('set')) argv.push('--set', kv);
    for (const kv of lines('set-secret')) argv.push('--set-secret', kv);
    if (input('run-id')) argv.push('--run-id', input('run-id'));
  } else {
    argv.push(...lines('jobs'));
    if (input('selector')) argv.push('-l', input('selector'));
  }
  const flags: [ActionInput, string][] = [
    ['namespace', '--namespace'],
    ['timeout', command === 'deploy' ? '--rollout-timeout' : '--timeout'],
    ['context', '--context'],
    ['cleanup', '--cleanup'],
    ['project', '--project'],
    ['gke-cluster', '--gke-cluster'],
    ['gke-endpoint', '--gke-endpoint'],
    ['artifacts', '--artifacts'],
    ['junit-report', '--junit-report'],
  ];
  for (const [name, flag] of flags) if (input(name)) argv.push(flag, input(name));
  const cloud = input('cloud-logging');
  if (cloud === 'true') argv.push('--cloud-logging');
  else if (cloud && cloud !== 'false') argv.push(`--cloud-logging=${cloud}`);
  let kubeconfigContent: string | undefined;
  const kubeconfig = env.INPUT_KUBECONFIG ?? '';
  if (kubeconfig.trim()) {
    if (kubeconfig.includes('\n') || /^\s*apiVersion:/.test(kubeconfig)) {
      kubeconfigContent = kubeconfig;
    } else {
      argv.push('--kubeconfig', kubeconfig.trim());
    }
  }
  for (const line of lines('args')) {
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (m) argv.push(m[1]!, m[2]!);
    else argv.push(line);
  }
  return { argv, ...(kubeconfigContent ? { kubeconfigContent } : {}) };
}

/** Outputs the action sets itself: a test's value of the same name is not taken. */
const RESERVED = new Set(['result', 'summary-json']);

/**
 * The step outputs for `$GITHUB_OUTPUT` from the command's outcome and its result JSON (as
 * `--output json` wrote it; undefined when kubestep stopped before writing one): `result` is
 * `passed` (succeeded), `failed` (failed, timed out) or `error` (anything else); `summary-json`
 * the result on one line.
 * Source: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#setting-an-output-parameter
 */
export function actionOutputs(outcome: Outcome, resultJson: string | undefined): string {
  const result =
    outcome.kind === 'succeeded'
      ? 'passed'
      : outcome.kind === 'failed' || outcome.kind === 'timed-out'
        ? 'failed'
        : 'error';
  let summary = '{}';
  let values: Record<string, unknown> = {};
  if (resultJson !== undefined) {
    try {
      const parsed = JSON.parse(resultJson) as { outputs?: Record<string, unknown> };
      summary = JSON.stringify(parsed);
      values = parsed.outputs ?? {};
    } catch {
      summary = JSON.stringify({ error: 'the result file is not JSON' });
    }
  }
  // The tests' $KUBESTEP_OUTPUT values, each as a step output (names were checked when read; a
  // value cannot end the heredoc early: the delimiter is random).
  const extra = Object.entries(values)
    .filter(
      ([name, v]) =>
        /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) && !RESERVED.has(name) && typeof v === 'string',
    )
    .map(([name, v]) => {
      const delimiter = `kubestep_${randomBytes(12).toString('hex')}`;
      return `${name}<<${delimiter}\n${String(v)}\n${delimiter}\n`;
    })
    .join('');
  return `result=${result}\nsummary-json=${summary}\n${extra}`;
}
