// The console: mirrored logs to stdout, kubestep's own messages to stderr. Adapter over streams.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Output } from '../jobs/run-jobs.js';
import type { LogSource } from '../logs/follower.js';
import { linePrefix } from './log-format.js';

/** Options of {@link createConsoleOutput}. */
export interface ConsoleOptions {
  stdout: Writable;
  stderr: Writable;
  /** Prefix every log line with `[pod/NAME/CONTAINER] `. */
  prefix: boolean;
  verbose: boolean;
}

/**
 * Pod log lines go to stdout as they come (whole lines, with backpressure: a slow reader slows
 * the log streams instead of filling memory); kubestep's messages go to stderr as
 * `kubestep: ...`, so that stdout holds the tests' output only.
 */
export function createConsoleOutput(o: ConsoleOptions): Output {
  const say = (text: string) => void o.stderr.write(`kubestep: ${text}\n`);
  return {
    info: say,
    warn: (m) => say(`warning: ${m}`),
    debug: (m) => {
      if (o.verbose) say(`debug: ${m}`);
    },
    logs: {
      write(source: LogSource, lines: string[]) {
        const prefix = o.prefix ? linePrefix(source) : '';
        const text = prefix
          ? lines.map((l) => prefix + l + '\n').join('')
          : lines.join('\n') + '\n';
        if (!o.stdout.write(text)) return once(o.stdout, 'drain').then(() => undefined);
      },
      note(source: LogSource, message: string) {
        say(`${linePrefix(source).trim()} ${message}`);
      },
      debug(source: LogSource, message: string) {
        if (o.verbose) say(`debug: ${linePrefix(source).trim()} ${message}`);
      },
    },
  };
}
