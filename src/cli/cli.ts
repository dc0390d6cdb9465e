// The command table: flags → typed options → command. The one place that maps errors to exit codes.
import yargs from 'yargs';
import { exitCodeOfError, messageOf, UsageError } from '../errors.js';
import { isStatus } from '../kube/errors.js';
import { VERSION } from '../version.js';
import { parseDurationMs } from './duration.js';
import type { Io } from './run-command.js';

const CLEANUP = ['always', 'on-success', 'never'] as const;

/**
 * Parses `argv` (without node and script), runs the command and returns the exit code.
 * Never throws: errors are printed as `kubestep: error: ...` with the next step, and mapped to
 * exit code 2 (usage, input) or 3 (cluster, API).
 */
export async function runCli(argv: string[], io: Io, signal: AbortSignal): Promise<number> {
  let code = 0;
  argv = stdinFilename(argv);
  try {
    const parser = yargs(argv)
      .scriptName('kubestep')
      .usage('$0 <command> [options]\n\nRun test Jobs in Kubernetes as one CI step.')
      .command(
        'run',
        'create the Jobs in the manifests, mirror their logs, wait until each is Complete or Failed, clean up',
        (y) =>
          y
            .option('filename', {
              alias: 'f',
              type: 'string',
              array: true,
              demandOption: true,
              requiresArg: true,
              describe:
                'manifest file with batch/v1 Jobs (multi-document YAML); - for stdin; repeatable',
            })
            .option('set', {
              type: 'string',
              array: true,
              requiresArg: true,
              default: [] as string[],
              describe:
                'NAME=VALUE for ${NAME} in manifests (wins over the environment); repeatable',
            })
            .option('run-id', {
              type: 'string',
              requiresArg: true,
              describe:
                'id of this run (label kubestep.dev/run-id, ${RUN_ID}); default: BUILD_ID, else GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT, else random',
            })
            .option('kubeconfig', {
              type: 'string',
              requiresArg: true,
              describe: 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)',
            })
            .option('context', {
              type: 'string',
              requiresArg: true,
              describe: 'kubeconfig context',
            })
            .option('namespace', {
              alias: 'n',
              type: 'string',
              requiresArg: true,
              describe: "namespace for Jobs that name none (default: the context's, else default)",
            })
            .option('replace', {
              type: 'boolean',
              default: false,
              describe: 'replace a running Job of the same name that belongs to another run',
            })
            .option('timeout', {
              type: 'string',
              default: '1h',
              requiresArg: true,
              describe: 'limit for the whole run; then the Jobs fail (exit 1) and are cleaned up',
            })
            .option('cleanup', {
              choices: CLEANUP,
              default: 'always' as const,
              describe: 'delete the Jobs this run created (with their pods) at the end',
            })
            .option('grace', {
              type: 'string',
              default: '30s',
              requiresArg: true,
              describe: 'how long cleanup waits for deleted objects to be gone',
            })
            .option('api-timeout', {
              type: 'string',
              default: '60s',
              requiresArg: true,
              describe:
                'how long to retry an API server that fails (network, 429, 5xx) before giving up with exit 3',
            })
            .option('verbose', {
              alias: 'v',
              type: 'boolean',
              default: false,
              describe: 'also print retries and watch reconnects',
            })
            .example(
              '$0 run -f k8s/tests.yaml',
              'run the Jobs of tests.yaml in the current context',
            )
            .example(
              '$0 run -f tests.yaml --set IMAGE=gcr.io/p/app:$SHORT_SHA -n ci',
              'substitute ${IMAGE}, use namespace ci',
            )
            .example(
              'envsubst < t.yaml | $0 run -f - --cleanup on-success',
              'manifest from stdin; keep Jobs of a failed run',
            )
            .strict(),
        async (a) => {
          const { runCommand } = await import('./run-command.js');
          code = await runCommand(
            {
              files: a.filename,
              set: parseSets(a.set),
              runId: a['run-id'],
              kubeconfig: a.kubeconfig,
              context: a.context,
              namespace: a.namespace,
              replace: a.replace,
              timeoutMs: positive('timeout', parseDurationMs('timeout', a.timeout)),
              cleanup: a.cleanup,
              graceMs: parseDurationMs('grace', a.grace),
              apiTimeoutMs: parseDurationMs('api-timeout', a['api-timeout']),
              verbose: a.verbose,
            },
            io,
            signal,
          );
        },
      )
      .demandCommand(1, 'name a command, e.g. kubestep run -f FILE')
      .strict()
      .version(VERSION)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      });
    let output = '';
    await parser.parseAsync(argv, {}, (_err, _argv, out) => {
      output = out;
    });
    if (output) io.stdout.write(output + '\n');
    return code;
  } catch (err) {
    const message = messageOf(err);
    const hint =
      err instanceof UsageError
        ? '\n(see kubestep --help)'
        : isStatus(err, 403)
          ? '\n(kubestep needs get, list, watch, create and delete on jobs, list and watch on pods, and get on pods/log in the namespace: see README.md, Permissions)'
          : isStatus(err, 401)
            ? '\n(the API server did not accept the credentials: check the kubeconfig user or token)'
            : '';
    io.stderr.write(`kubestep: error: ${message}${hint}\n`);
    return exitCodeOfError(err);
  }
}

/** yargs reads `-f -` as a flag without its value; `-f=-` it reads right. */
function stdinFilename(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-f' || a === '--filename') && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

function parseSets(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const name = eq > 0 ? p.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `--set ${JSON.stringify(p.slice(0, 40))} is not NAME=VALUE with NAME a variable name`,
      );
    }
    out[name] = p.slice(eq + 1);
  }
  return out;
}

function positive(flag: string, ms: number): number {
  if (ms <= 0) throw new UsageError(`--${flag} must be more than 0`);
  return ms;
}
