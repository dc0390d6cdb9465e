// Flags of the commands that follow Jobs (`run`, `wait`): how long they may take, where the result
// goes, Cloud Logging.
import type { Argv } from 'yargs';
import { parseDurationMs, positive } from '../duration.js';

/** Declares -o/--output and --output-file: the result file. */
export function resultFileFlags<T>(y: Argv<T>) {
  return y
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
    });
}

/** The result file flags as a typed option: the file, when --output json. */
export function resultFileOption(a: { output: 'text' | 'json'; 'output-file': string }) {
  return { outputFile: a.output === 'json' ? a['output-file'] : undefined };
}

/** Declares --timeout (described as `limit`), -o/--output, --output-file, --cloud-logging, --project. */
export function reportFlags<T>(y: Argv<T>, limit: string) {
  return resultFileFlags(y)
    .option('timeout', {
      type: 'string',
      default: '1h',
      requiresArg: true,
      describe: limit,
    })
    .option('junit-report', {
      type: 'string',
      requiresArg: true,
      describe:
        'also write the run as JUnit XML to this file: each Job and each attempt a test case (README: JUnit report)',
    })
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

/** The report flags as typed options. Throws UsageError. */
export function reportOptions(a: {
  timeout: string;
  output: 'text' | 'json';
  'output-file': string;
  'junit-report'?: string | undefined;
  'cloud-logging'?: string | undefined;
  project?: string | undefined;
}) {
  return {
    timeoutMs: positive('timeout', parseDurationMs('timeout', a.timeout)),
    ...resultFileOption(a),
    junitReport: a['junit-report'],
    cloudLogging: a['cloud-logging'],
    project: a.project,
  };
}
