// The console: mirrored logs to stdout, kubestep's own messages to stderr, in the dialect of the
// CI it runs in (GitHub Actions workflow commands, plain text for Cloud Build and other CIs,
// colours and a status line on a terminal). Adapter over streams.
import { styleText } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { LogSource, Output } from '../core/output.js';
import {
  defuseWorkflowCommand,
  escapeData,
  escapeProperty,
  visibleControls,
  type OutputMode,
} from './ci.js';
import { linePrefix } from './log-format.js';
import type { Redact } from './secrets.js';

/** Options of {@link createConsoleOutput}. */
export interface ConsoleOptions {
  stdout: Writable & { columns?: number };
  stderr: Writable & { columns?: number };
  mode: OutputMode;
  /** ANSI colours on stderr (a terminal without NO_COLOR). */
  color: boolean;
  /** Defuse pod lines that read as workflow commands (outputMode's `neutralise`). */
  neutralise?: boolean;
  /** Prefix every log line with `[pod/NAME/CONTAINER] `. */
  prefix: boolean;
  verbose: boolean;
  /** Hides secret values in everything written. */
  redact: Redact;
  /** Values for GitHub's `::add-mask::`, written first (github mode only). */
  masks: readonly string[];
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** On a terminal, the status line is redrawn at most this often, ms. */
const STATUS_EVERY_MS = 1_000;
/** In CI, a progress line when nothing was printed for this long, ms. */
const PROGRESS_EVERY_MS = 30_000;

// Whether to colour is this module's decision (`color`), not the stream's: no validation.
const ansi = (format: Parameters<typeof styleText>[0]) => (text: string) =>
  styleText(format, text, { validateStream: false });
const RED = ansi('red');
const YELLOW = ansi('yellow');
const GREEN = ansi('green');
const DIM = ansi('dim');
const BOLD = ansi('bold');

/**
 * Pod log lines go to stdout as they come (whole lines, with backpressure: a slow reader slows
 * the log streams instead of filling memory); kubestep's messages go to stderr as
 * `kubestep: ...`, so that stdout holds the tests' output only. In GitHub Actions each pod's
 * lines are in a `::group::` and between `::stop-commands::` markers, so that a pod cannot
 * issue workflow commands; failures become `::error::` annotations.
 * Source: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 */
export function createConsoleOutput(o: ConsoleOptions): Output {
  const github = o.mode === 'github';
  const terminal = o.mode === 'terminal';
  const paint = (f: (t: string) => string) => (t: string) => (o.color ? f(t) : t);
  let lastOutputAt = o.now();
  let statusDrawnAt = 0;
  let statusShown = false;
  // GitHub: the open group (a log source) and the token that resumes workflow commands.
  let group: string | undefined;
  const token = randomBytes(12).toString('hex');

  if (github) {
    for (const m of o.masks) {
      for (const line of m.split(/\r?\n/)) {
        // Escaped as @actions/core's setSecret does: a CR or a % in a value must not cut it short.
        if (line.trim()) o.stdout.write(`::add-mask::${escapeData(line)}\n`);
      }
    }
  }

  const clearStatus = () => {
    if (statusShown) {
      o.stderr.write('\r\x1b[2K');
      statusShown = false;
    }
  };
  const closeGroup = () => {
    if (group === undefined) return;
    o.stdout.write(`::${token}::\n::endgroup::\n`);
    group = undefined;
  };
  // Before a message of kubestep's own: out of the status line and of any log group.
  const interrupt = () => {
    clearStatus();
    closeGroup();
    lastOutputAt = o.now();
  };
  const say = (text: string, style: (t: string) => string = (t) => t) => {
    interrupt();
    // Messages carry event texts and dependency log lines: no control character gets through.
    const lines = visibleControls(o.redact(text)).split('\n');
    o.stderr.write(lines.map((l) => `${paint(DIM)('kubestep:')} ${style(l)}\n`).join(''));
  };

  return {
    info: (m) => say(m),
    warn: (m) => say(`warning: ${m}`, paint(YELLOW)),
    debug: (m) => {
      if (o.verbose) say(`debug: ${m}`, paint(DIM));
    },
    error(title, message) {
      if (github) {
        interrupt();
        const t = escapeProperty(visibleControls(o.redact(title)));
        const m = escapeData(visibleControls(o.redact(`${title}: ${message}`)));
        o.stdout.write(`::error title=${t}::${m}\n`);
        return;
      }
      say(`${title}: ${message}`, paint(RED));
    },
    testFailure({ title, message, file, line }) {
      if (!github) return;
      interrupt();
      const where = [
        ...(file ? [`file=${escapeProperty(visibleControls(o.redact(file)))}`] : []),
        ...(file && line ? [`line=${line}`] : []),
        `title=${escapeProperty(visibleControls(o.redact(title)))}`,
      ].join(',');
      o.stdout.write(`::error ${where}::${escapeData(visibleControls(o.redact(message)))}\n`);
    },
    result(ok, text) {
      say(
        text,
        paint((t) => BOLD(ok ? GREEN(t) : RED(t))),
      );
    },
    status(text) {
      const now = o.now();
      if (terminal) {
        if (!text) return clearStatus();
        if (now - statusDrawnAt < STATUS_EVERY_MS) return;
        statusDrawnAt = now;
        // A pty without a size reports 0 columns.
        const width = Math.max(20, (o.stderr.columns || o.stdout.columns || 100) - 1);
        const line = visibleControls(o.redact(`kubestep: ${text}`));
        o.stderr.write(
          `\r\x1b[2K${paint(DIM)(line.length > width ? `${line.slice(0, width - 1)}…` : line)}`,
        );
        statusShown = true;
        return;
      }
      if (!text || now - lastOutputAt < PROGRESS_EVERY_MS) return;
      // Nothing was printed for a while: show that the step is alive, and what it waits for.
      say(`still waiting, ${text}`);
    },
    logs: {
      write(source: LogSource, lines: string[]) {
        clearStatus();
        lastOutputAt = o.now();
        // A bare line could be a workflow command for a runner that kubestep does not know of.
        if (o.neutralise && !o.prefix) lines = lines.map(defuseWorkflowCommand);
        const prefix = o.prefix ? linePrefix(source) : '';
        let text = prefix ? lines.map((l) => prefix + l + '\n').join('') : lines.join('\n') + '\n';
        text = o.redact(text);
        // On a terminal a pod's escape sequences would redraw the screen (or the verdict).
        if (terminal) text = visibleControls(text);
        if (github) {
          const name = `pod/${source.pod}/${source.container}`;
          if (group !== name) {
            closeGroup();
            group = name;
            text = `::group::${escapeData(name)}\n::stop-commands::${token}\n${text}`;
          }
        }
        // A reader that went away (`| head`, EPIPE): the lines are dropped, the run goes on.
        if (o.stdout.destroyed) return;
        if (!o.stdout.write(text)) return drained(o.stdout);
      },
      note(source: LogSource, message: string) {
        say(`${linePrefix(source).trim()} ${message}`);
      },
      debug(source: LogSource, message: string) {
        if (o.verbose) say(`debug: ${linePrefix(source).trim()} ${message}`, paint(DIM));
      },
    },
    close() {
      clearStatus();
      closeGroup();
    },
  };
}

/**
 * Resolves when `stream` has drained, or can take no more (closed, or failed: EPIPE when its
 * reader went away), so that backpressure never holds a run up for ever.
 */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    stream.on('drain', done).on('close', done).on('error', done);
  });
}
