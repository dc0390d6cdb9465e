// An exception in kubestep's own code (injected through the KUBESTEP_INJECT_FAULT test hook of
// main.ts) ends the run as an infrastructure error: cleanup, exit 3, the result file written.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  jobYaml,
  manifestFile,
  names,
  objectsIn,
  runCli,
  until,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('crash');

it.each(['uncaught-exception', 'unhandled-rejection'])(
  'an injected %s while a Job runs: exit 3, result file, nothing left',
  async (fault) => {
    const job = `crash-${fault.split('-')[0]}`;
    const resultFile = manifestFile('', 'result.json');
    const r = await runCli(
      [
        'run',
        '-f',
        manifestFile(jobYaml(job, 'echo started; sleep 60')),
        '-n',
        t.ns,
        '--output',
        'json',
        '--output-file',
        resultFile,
      ],
      { env: { KUBESTEP_INJECT_FAULT: `${fault}@4000` } },
    );
    expect(r.code, r.stderr).toBe(3);
    const what =
      fault === 'uncaught-exception' ? 'an uncaught exception' : 'an unhandled rejection';
    expect(r.stderr).toContain(
      `kubestep: error: kubestep itself failed (${what}: injected ${fault}); this is a bug in kubestep: please report it with this output`,
    );
    // The first lines of the stack, in the bundle.
    expect(r.stderr).toMatch(/kubestep: {3}at .*kubestep\.mjs:\d+/);
    expect(r.stderr).toContain(`deleting job/${job}`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
    expect(result).toMatchObject({ outcome: 'infra-error', reason: 'InfraError', exitCode: 3 });
    expect(String(result.message)).toContain(`injected ${fault}`);
    // The Job is deleted before exit; its pod ends within its grace period (2 s).
    expect(names((await objectsIn(t.client, t.ns)).jobs)).not.toContain(job);
    await until(
      async () => !names((await objectsIn(t.client, t.ns)).pods).some((n) => n?.startsWith(job)),
      30_000,
      `the pods of job/${job} to be gone`,
    );
  },
);
