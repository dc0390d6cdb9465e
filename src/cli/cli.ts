// The command table: each command's module (commands/) declares its flags and maps them to typed
// options; its handler is loaded when the command runs (a faster start). The one place that turns
// errors into outcomes (outcomeOfError) and prints them.
import yargs from 'yargs';
import { messageOf, UsageError } from '../core/errors.js';
import { DONE, outcomeOfError, type Outcome } from '../core/outcome.js';
import { VERSION } from '../core/version.js';
import { isStatus } from '../kube/errors.js';
import { escapeData } from '../report/ci.js';
import { deployHandler, registerDeploy } from './commands/deploy.js';
import { downHandler, registerDown } from './commands/down.js';
import { gcHandler, registerGc } from './commands/gc.js';
import { registerRun, runHandler } from './commands/run.js';
import { registerUp, upHandler } from './commands/up.js';
import { registerWait, waitHandler } from './commands/wait.js';
import type { DeployOptions } from './deploy-command.js';
import type { GcOptions } from './gc-command.js';
import type { DownOptions, Io, RunOptions, UpOptions } from './run-command.js';
import { unknownArgumentsMessage } from './unknown-args.js';
import type { WaitOptions } from './wait-command.js';

/** The commands that {@link runCli} dispatches to, each given its typed options. */
export interface Commands {
  run(opts: RunOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  up(opts: UpOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  down(opts: DownOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  wait(opts: WaitOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  gc(opts: GcOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
  deploy(opts: DeployOptions, io: Io, signal: AbortSignal): Promise<Outcome>;
}

/** The real commands. */
const COMMANDS: Commands = {
  run: runHandler,
  up: upHandler,
  down: downHandler,
  wait: waitHandler,
  gc: gcHandler,
  deploy: deployHandler,
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
    const set = async (p: Promise<Outcome>) => void (outcome = await p);
    let parser = yargs(argv)
      .scriptName('kubestep')
      .usage('$0 <command> [options]\n\nRun test Jobs in Kubernetes as one CI step.');
    parser = registerRun(parser, (o) => set(commands.run(o, io, signal)));
    parser = registerUp(parser, (o) => set(commands.up(o, io, signal)));
    parser = registerDown(parser, (o) => set(commands.down(o, io, signal)));
    parser = registerWait(parser, (o) => set(commands.wait(o, io, signal)));
    parser = registerGc(parser, (o) => set(commands.gc(o, io, signal)));
    parser = registerDeploy(parser, (o) => set(commands.deploy(o, io, signal)));
    parser = parser
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
      .wrap(Math.min(110, io.columns || 100))
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
