// The command table: flags → typed options → command. The one place that turns errors into
// outcomes (outcomeOfError) and prints them.
import yargs, { type Argv } from 'yargs';
import { messageOf, UsageError } from '../core/errors.js';
import { DONE, outcomeOfError, type Outcome } from '../core/outcome.js';
import { isStatus } from '../kube/errors.js';
import { escapeData } from '../report/ci.js';
import { MIN_SECRET_LENGTH } from '../report/secrets.js';
import { VERSION } from '../core/version.js';
import { parseDurationMs } from './duration.js';
import type { GcOptions } from './gc-command.js';
import type { DownOptions, Io, RunOptions, UpOptions } from './run-command.js';
import { unknownArgumentsMessage } from './unknown-args.js';
import { dnsLabelProblem } from '../manifests/names.js';
import type { WaitOptions } from './wait-command.js';

const CLEANUP = ['always', 'on-success', 'never'] as const;

/** The commands that {@link runCli} dispatches to, each given its typed options. */
export interface Commands {
  run(opts: RunOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  up(opts: UpOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  down(opts: DownOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  wait(opts: WaitOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  gc(opts: GcOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
}

/** The real commands, each module loaded when its command runs (a faster start). */
const COMMANDS: Commands = {
  run: async (o, io, s) => (await import('./run-command.js')).runCommand(o, io, s),
  up: async (o, io, s) => (await import('./run-command.js')).upCommand(o, io, s),
  down: async (o, io, s) => (await import('./run-command.js')).downCommand(o, io, s),
  wait: async (o, io, s) => (await import('./wait-command.js')).waitCommand(o, io, s),
  gc: async (o, io, s) => (await import('./gc-command.js')).gcCommand(o, io, s),
};

/**
 * Parses `argv` (without node and script), runs the command and returns its outcome (exitCodeOf
 * in core/outcome.ts makes the exit code). `commands` replaces the commands, e.g. to check what a
 * command line parses to. Never throws: errors are printed as `kubestep: error: ...` with the
 * next step, and turned into an outcome by outcomeOfError: bad-input (usage, input),
 * infra-error (cluster, API), cancelled (SIGINT or SIGTERM on `signal`).
 */
export async function runCli(
  argv: string[],
  io: Io,
  signal: AbortSignal,
  commands: Commands = COMMANDS,
): Promise<Outcome> {
  let outcome: Outcome = DONE;
  argv = stdinFilename(argv);
  try {
    const parser = yargs(argv)
      .scriptName('kubestep')
      .usage('$0 <command> [options]\n\nRun test Jobs in Kubernetes as one CI step.')
      .command(
        'run',
        'start the dependencies, create the test Jobs, mirror their logs, wait until each is Complete or Failed, delete everything',
        (y) =>
          cloudOptions(stuckOptions(clusterOptions(manifestOptions(y))))
            .option('filename', {
              alias: 'f',
              type: 'string',
              array: true,
              demandOption: true,
              requiresArg: true,
              describe:
                'manifest file with batch/v1 Jobs (multi-document YAML); - for stdin; repeatable',
            })
            .option('replace', {
              type: 'boolean',
              default: false,
              describe:
                'replace a running Job (or a dependency) of the same name that belongs to another run',
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
              describe:
                'delete what this run created (Jobs with their pods, dependencies) at the end',
            })
            .option('output', {
              alias: 'o',
              choices: ['text', 'json'] as const,
              default: 'text' as const,
              describe:
                'json: also write the result (per Job: outcome, reason, exit codes, timings) to --output-file',
            })
            .option('output-file', {
              type: 'string',
              requiresArg: true,
              default: 'kubestep-result.json',
              describe: 'where --output json writes the result',
            })
            .option('heartbeat-lease', {
              type: 'string',
              default: '5m',
              requiresArg: true,
              hidden: true,
              describe:
                'other runs treat this one as killed this long after its last heartbeat (renewed every third of it)',
            })
            .example(
              '$0 run -f k8s/tests.yaml',
              'run the Jobs of tests.yaml in the current context',
            )
            .example(
              '$0 run -f tests.yaml --deps postgres.yaml --set IMAGE=gcr.io/p/app:$SHORT_SHA -n ci',
              'start Postgres, wait until ready, run the tests against it; substitute ${IMAGE}',
            )
            .example(
              'envsubst < t.yaml | $0 run -f - --cleanup on-success',
              'manifest from stdin; keep the objects of a failed run',
            )
            .strict(),
        async (a) => {
          outcome = await commands.run(
            {
              ...clusterArgs(a),
              ...manifestArgs(a),
              ...stuckArgs(a),
              ...cloudArgs(a),
              files: a.filename,
              replace: a.replace,
              timeoutMs: positive('timeout', parseDurationMs('timeout', a.timeout)),
              cleanup: a.cleanup,
              outputFile: a.output === 'json' ? a['output-file'] : undefined,
              sweep: a.sweep,
              leaseSeconds: Math.max(
                1,
                positive(
                  'heartbeat-lease',
                  parseDurationMs('heartbeat-lease', a['heartbeat-lease']),
                ) / 1000,
              ),
            },
            io,
            signal,
          );
        },
      )
      .command(
        'up',
        'start the dependencies and wait until they are ready, then exit and leave them running (for a later "down")',
        (y) =>
          stuckOptions(clusterOptions(manifestOptions(y)))
            .demandOption('deps')
            .option('replace', {
              type: 'boolean',
              default: false,
              describe: 'replace a dependency of the same name that belongs to another run',
            })
            .option('lifetime', {
              type: 'string',
              default: '1h',
              requiresArg: true,
              describe:
                'the cluster deletes the dependencies after this, in case "down" never runs',
            })
            .example(
              '$0 up --deps postgres.yaml --run-id $BUILD_ID',
              'start Postgres for the next steps; "$0 down --run-id $BUILD_ID" deletes it',
            )
            .strict(),
        async (a) => {
          outcome = await commands.up(
            {
              ...clusterArgs(a),
              ...manifestArgs(a),
              ...stuckArgs(a),
              replace: a.replace,
              lifetimeMs: positive('lifetime', parseDurationMs('lifetime', a.lifetime)),
              sweep: a.sweep,
            },
            io,
            signal,
          );
        },
      )
      .command(
        'down',
        'delete everything of a run (Jobs, dependencies) by its labels',
        (y) =>
          clusterOptions(y)
            .option('run-id', {
              type: 'string',
              requiresArg: true,
              describe:
                'the run to delete; default: BUILD_ID, else GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT',
            })
            .example('$0 down --run-id 7f3a9c1e -n ci', 'delete what "up" (or a kept run) left')
            .strict(),
        async (a) => {
          outcome = await commands.down({ ...clusterArgs(a), runId: a['run-id'] }, io, signal);
        },
      )
      .command(
        'wait [jobs..]',
        'follow Jobs that exist already (made by kubectl apply in an earlier step): mirror their logs, wait until each is Complete or Failed, exit like run',
        (y) =>
          cloudOptions(stuckOptions(clusterOptions(y)))
            .positional('jobs', {
              type: 'string',
              array: true,
              describe: 'the Jobs, as job/NAME',
            })
            .option('selector', {
              alias: 'l',
              type: 'string',
              requiresArg: true,
              describe: 'the Jobs matching this label selector instead of names, e.g. app=tests',
            })
            .option('appear-timeout', {
              type: 'string',
              default: '1m',
              requiresArg: true,
              describe: 'how long the Jobs may take to appear (then exit 3)',
            })
            .option('timeout', {
              type: 'string',
              default: '1h',
              requiresArg: true,
              describe: 'limit for the wait; then the Jobs count as failed (exit 1)',
            })
            .option('cleanup', {
              type: 'boolean',
              default: false,
              describe:
                'delete the Jobs (and their pods) at the end; by default nothing is deleted',
            })
            .option('output', {
              alias: 'o',
              choices: ['text', 'json'] as const,
              default: 'text' as const,
              describe: 'json: also write the result to --output-file',
            })
            .option('output-file', {
              type: 'string',
              requiresArg: true,
              default: 'kubestep-result.json',
              describe: 'where --output json writes the result',
            })
            .example(
              'kubectl apply -f tests.yaml && $0 wait job/tests -n ci',
              'follow a Job made by kubectl',
            )
            .example(
              '$0 wait -l suite=e2e --appear-timeout 5m',
              'wait for Jobs another controller creates',
            )
            .strict(),
        async (a) => {
          const { parseJobRef } = await import('./wait-command.js');
          const names = (a.jobs ?? []).map((j) => parseJobRef(String(j)));
          if (names.length > 0 === (a.selector !== undefined)) {
            throw new UsageError(
              'name the Jobs (job/NAME ...) or give a selector (-l), one of the two',
            );
          }
          outcome = await commands.wait(
            {
              ...clusterArgs(a),
              ...stuckArgs(a),
              ...cloudArgs(a),
              names,
              selector: a.selector,
              appearTimeoutMs: positive(
                'appear-timeout',
                parseDurationMs('appear-timeout', a['appear-timeout']),
              ),
              timeoutMs: positive('timeout', parseDurationMs('timeout', a.timeout)),
              cleanup: a.cleanup,
              outputFile: a.output === 'json' ? a['output-file'] : undefined,
            },
            io,
            signal,
          );
        },
      )
      .command(
        'gc',
        'delete what runs that are over left behind: objects of killed runs, kept objects and finished Jobs older than --older-than',
        (y) =>
          clusterOptions(y)
            .option('older-than', {
              type: 'string',
              default: '6h',
              requiresArg: true,
              describe:
                'delete objects of runs that are over once older than this (finished Jobs: since they finished)',
            })
            .option('max-age', {
              type: 'string',
              default: '24h',
              requiresArg: true,
              describe:
                'delete test Jobs that have not finished once older than this, whatever their run',
            })
            .option('all-namespaces', {
              alias: 'A',
              type: 'boolean',
              default: false,
              describe: 'look in every namespace (needs list and delete there)',
            })
            .option('dry-run', {
              type: 'boolean',
              default: false,
              describe: 'list what would be deleted; delete nothing',
            })
            .example('$0 gc -n ci', 'delete leftovers in namespace ci older than 6 h')
            .example('$0 gc -A --older-than 1h --dry-run', 'show what would go in all namespaces')
            .strict(),
        async (a) => {
          if (a['all-namespaces'] && a.namespace !== undefined) {
            throw new UsageError('give either --namespace or --all-namespaces, not both');
          }
          outcome = await commands.gc(
            {
              ...clusterArgs(a),
              olderThanMs: parseDurationMs('older-than', a['older-than']),
              maxAgeMs: positive('max-age', parseDurationMs('max-age', a['max-age'])),
              allNamespaces: a['all-namespaces'],
              dryRun: a['dry-run'],
            },
            io,
            signal,
          );
        },
      )
      .command(
        'github-action',
        false, // hidden: the entry of action.yml, which passes its inputs as INPUT_* variables
        (y) => y.strict(),
        async () => {
          const { actionCommand } = await import('./action.js');
          outcome = await actionCommand(io, (args) => runCli(args, io, signal, commands));
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
        // A coerce function's error reaches here re-made as yargs' YError: a usage error too.
        if (err?.name === 'YError') throw new UsageError(err.message);
        throw err ?? new UsageError(unknownArgumentsMessage(msg, argv));
      });
    let output = '';
    await parser.parseAsync(argv, {}, (_err, _argv, out) => {
      output = out;
    });
    if (output) io.stdout.write(output + '\n');
    return outcome;
  } catch (err) {
    const failed = outcomeOfError(err, signal);
    if (failed.kind === 'cancelled') {
      io.stderr.write(`kubestep: CANCELLED by ${failed.signal}\n`);
      return failed;
    }
    const message = messageOf(err);
    const hint =
      err instanceof UsageError
        ? '\n(see kubestep --help)'
        : isStatus(err, 403)
          ? '\n(kubestep needs the permissions of deploy/rbac.yaml in the namespace: see README.md, Permissions)'
          : isStatus(err, 401)
            ? '\n(the API server did not accept the credentials: check the kubeconfig user or token)'
            : '';
    if (io.env.GITHUB_ACTIONS === 'true') {
      io.stdout.write(`::error title=kubestep::${escapeData(message + hint)}\n`);
    }
    io.stderr.write(`kubestep: error: ${message}${hint}\n`);
    return failed;
  }
}

/** Flags of every command that talks to the cluster. */
function clusterOptions<T>(y: Argv<T>) {
  return y
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
      describe: "namespace for objects that name none (default: the context's, else default)",
      coerce: (ns: string) => {
        const problem = dnsLabelProblem(ns);
        if (problem) throw new UsageError(`--namespace ${JSON.stringify(ns)} ${problem}`);
        return ns;
      },
    })
    .option('server', {
      type: 'string',
      requiresArg: true,
      describe:
        'the API server (https://HOST[:PORT]) instead of a kubeconfig, with --token-file or KUBESTEP_TOKEN',
    })
    .option('token-file', {
      type: 'string',
      requiresArg: true,
      describe: 'file with the bearer token for --server (read again every minute)',
    })
    .option('certificate-authority', {
      type: 'string',
      requiresArg: true,
      describe: "PEM file of --server's CA (default: the system's roots)",
    })
    .option('certificate-authority-data', {
      type: 'string',
      requiresArg: true,
      describe: "--server's CA as base64 PEM, as in a kubeconfig",
    })
    .option('gke-cluster', {
      type: 'string',
      requiresArg: true,
      describe:
        'projects/P/locations/L/clusters/C: a GKE cluster through Application Default Credentials, no gcloud (default: CLOUDSDK_CONTAINER_CLUSTER with CLOUDSDK_COMPUTE_REGION/ZONE when no kubeconfig is given)',
    })
    .option('gke-endpoint', {
      choices: ['public', 'private', 'dns'] as const,
      default: 'public' as const,
      describe: "which endpoint of the GKE cluster's control plane to use",
    })
    .option('grace', {
      type: 'string',
      default: '30s',
      requiresArg: true,
      describe: 'how long deleting objects may take before kubestep gives up waiting',
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
    });
}

function clusterArgs(a: {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  server?: string | undefined;
  'token-file'?: string | undefined;
  'certificate-authority'?: string | undefined;
  'certificate-authority-data'?: string | undefined;
  'gke-cluster'?: string | undefined;
  'gke-endpoint': 'public' | 'private' | 'dns';
  grace: string;
  'api-timeout': string;
  verbose: boolean;
}) {
  return {
    kubeconfig: a.kubeconfig,
    context: a.context,
    namespace: a.namespace,
    server: a.server,
    tokenFile: a['token-file'],
    certificateAuthority: a['certificate-authority'],
    certificateAuthorityData: a['certificate-authority-data'],
    gkeCluster: a['gke-cluster'],
    gkeEndpoint: a['gke-endpoint'],
    graceMs: parseDurationMs('grace', a.grace),
    apiTimeoutMs: parseDurationMs('api-timeout', a['api-timeout']),
    verbose: a.verbose,
  };
}

/** Flags of the commands that read manifests. */
function manifestOptions<T>(y: Argv<T>) {
  return y
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
    });
}

function manifestArgs(a: {
  deps: string[];
  'deps-timeout': string;
  set: string[];
  'set-secret': string[];
  'run-id'?: string | undefined;
}) {
  const setSecret = parseSets(a['set-secret'], 'set-secret');
  for (const [name, value] of Object.entries(setSecret)) {
    if (value.trim().length < MIN_SECRET_LENGTH) {
      throw new UsageError(
        `--set-secret ${name}: the value has fewer than ${MIN_SECRET_LENGTH} characters and cannot be hidden in the output; use --set for values that are not secret`,
      );
    }
  }
  return {
    deps: a.deps,
    depsTimeoutMs: positive('deps-timeout', parseDurationMs('deps-timeout', a['deps-timeout'])),
    set: parseSets(a.set, 'set'),
    setSecret,
    runId: a['run-id'],
  };
}

/** --cloud-logging and --project, of `run` and `wait`. */
function cloudOptions<T>(y: Argv<T>) {
  return y
    .option('cloud-logging', {
      type: 'string',
      describe:
        'also write every log line and each Job result to Google Cloud Logging, log LOG_NAME (given alone: kubestep); never fails the run',
    })
    .option('project', {
      type: 'string',
      requiresArg: true,
      describe: "Google Cloud project for --cloud-logging (default: the credentials' project)",
    });
}

function cloudArgs(a: { 'cloud-logging'?: string | undefined; project?: string | undefined }) {
  return { cloudLogging: a['cloud-logging'], project: a.project };
}

/** How long a pod may stay stuck before kubestep gives up (exit 3); README "Stuck pods". */
function stuckOptions<T>(y: Argv<T>) {
  return y
    .option('image-pull-grace', {
      type: 'string',
      default: '2m',
      requiresArg: true,
      describe: 'how long a pod may fail to pull its image (ErrImagePull, ImagePullBackOff)',
    })
    .option('unschedulable-grace', {
      type: 'string',
      default: '5m',
      requiresArg: true,
      describe: 'how long a pod may stay Unschedulable (an autoscaler may add a node)',
    })
    .option('config-error-grace', {
      type: 'string',
      default: '30s',
      requiresArg: true,
      describe:
        'how long a container may fail to be created (CreateContainerConfigError: a missing Secret or ConfigMap)',
    });
}

function stuckArgs(a: {
  'image-pull-grace': string;
  'unschedulable-grace': string;
  'config-error-grace': string;
}) {
  return {
    graces: {
      imagePullMs: parseDurationMs('image-pull-grace', a['image-pull-grace']),
      unschedulableMs: parseDurationMs('unschedulable-grace', a['unschedulable-grace']),
      configErrorMs: parseDurationMs('config-error-grace', a['config-error-grace']),
    },
  };
}

/** yargs reads `-f -` as a flag without its value; `-f=-` it reads right. */
function stdinFilename(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-f' || a === '--filename' || a === '--deps') && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
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

function positive(flag: string, ms: number): number {
  if (ms <= 0) throw new UsageError(`--${flag} must be more than 0`);
  return ms;
}
