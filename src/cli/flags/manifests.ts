// Flags of the commands that read manifests: dependencies, variables, the run id, the sweep.
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { MIN_SECRET_LENGTH } from '../../report/secrets.js';
import { parseDurationMs, positive } from '../duration.js';

/** Declares --set, --set-secret and --env: the variables of ${NAME} in manifests. */
export function variableFlags<T>(y: Argv<T>) {
  return y
    .option('set', {
      type: 'string',
      array: true,
      requiresArg: true,
      default: [] as string[],
      describe: 'NAME=VALUE for ${NAME} in manifests (wins over the environment); repeatable',
    })
    .option('set-secret', {
      type: 'string',
      array: true,
      requiresArg: true,
      default: [] as string[],
      describe:
        'like --set, but VALUE is hidden (***) in everything kubestep prints, pod logs included; masked in GitHub Actions',
    })
    .option('env', {
      type: 'string',
      array: true,
      requiresArg: true,
      default: [] as string[],
      describe:
        'let ${NAME} read this environment variable although its name looks like a credential (INPUT_*, ACTIONS_*, *TOKEN*, *SECRET*, *PASSWORD*, *KEY*, ...); repeatable',
    });
}

/** Declares --deps, --deps-timeout, --set, --set-secret, --env, --run-id and --sweep. */
export function manifestFlags<T>(y: Argv<T>) {
  return variableFlags(y)
    .option('deps', {
      type: 'string',
      array: true,
      requiresArg: true,
      default: [] as string[],
      describe:
        'manifest with the dependencies (Pods, Services, Deployments, StatefulSets, ConfigMaps, Secrets), ready before the tests start; - for stdin; repeatable',
    })
    .option('deps-timeout', {
      type: 'string',
      default: '5m',
      requiresArg: true,
      describe: 'how long the dependencies may take to become ready (then exit 3)',
    })
    .option('run-id', {
      type: 'string',
      requiresArg: true,
      describe:
        'id of this run (label kubestep.dev/run-id, ${RUN_ID}); default: BUILD_ID, else GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT, else random',
    })
    .option('sweep', {
      type: 'boolean',
      default: true,
      describe:
        'first delete what earlier runs of the same manifests left behind, if those runs are over (killed, or ended keeping objects); --no-sweep: do not',
    })
    .option('dry-run', {
      type: 'boolean',
      default: false,
      describe:
        'check everything up to the first create (manifests, names, server-side dry run, rights, sweep) and report; create, change and delete nothing',
    })
    .option('allow-dropped-fields', {
      type: 'boolean',
      default: false,
      describe:
        'go on (with a warning) when the API server drops fields it does not know (e.g. podFailurePolicy on an older cluster); default: exit 2',
    });
}

/** The variable flags as typed options. Throws UsageError. */
export function variableOptions(a: { set: string[]; 'set-secret': string[]; env: string[] }) {
  for (const name of a.env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--env ${JSON.stringify(name)} is not a variable name`);
    }
  }
  const setSecret = parseSets(a['set-secret'], 'set-secret');
  for (const [name, value] of Object.entries(setSecret)) {
    if (value.trim().length < MIN_SECRET_LENGTH) {
      throw new UsageError(
        `--set-secret ${name}: the value has fewer than ${MIN_SECRET_LENGTH} characters and cannot be hidden in the output; use --set for values that are not secret`,
      );
    }
  }
  return { set: parseSets(a.set, 'set'), setSecret, allowEnv: a.env };
}

/** The manifest flags as typed options (ManifestOptions of run-command.ts). Throws UsageError. */
export function manifestOptions(a: {
  deps: string[];
  'deps-timeout': string;
  set: string[];
  'set-secret': string[];
  env: string[];
  'run-id'?: string | undefined;
  sweep: boolean;
  'allow-dropped-fields': boolean;
  'dry-run': boolean;
}) {
  return {
    deps: a.deps,
    depsTimeoutMs: positive('deps-timeout', parseDurationMs('deps-timeout', a['deps-timeout'])),
    ...variableOptions(a),
    runId: a['run-id'],
    allowDroppedFields: a['allow-dropped-fields'],
    sweep: a.sweep,
    dryRun: a['dry-run'],
  };
}

function parseSets(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const name = eq > 0 ? p.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      // A secret's value is not repeated; a --set's start helps to find it.
      const shown = flag === 'set' ? ` ${JSON.stringify(p.slice(0, 40))}` : '';
      throw new UsageError(`--${flag}${shown} is not NAME=VALUE with NAME a variable name`);
    }
    out[name] = p.slice(eq + 1);
  }
  return out;
}
