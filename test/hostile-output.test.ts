// Text that a container controls reaches kubestep's own lines: a dependency's last log lines and
// the events of its failing exec readiness probe. Read with the GitHub Actions runner's line rules
// (a line ends at "\n" or "\r"), the output holds no workflow command that kubestep did not mean;
// in plain CI output control characters are visible.
import { expect, it } from 'vitest';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('hostile');

// printf's \r, \033 (ESC) and \007 (BEL) become the bytes themselves.
const DEP = `apiVersion: v1
kind: Pod
metadata: {name: "db-\${RUN_ID}"}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: db
      image: busybox:local
      imagePullPolicy: Never
      command: ["sh", "-c", "printf 'starting\\\\r::error::pwned-log \\\\033[2J\\\\033]52;c;cHduZWQ=\\\\007\\\\n'; sleep 3600"]
      readinessProbe:
        periodSeconds: 1
        exec:
          command: ["sh", "-c", "printf 'FATAL\\\\r::add-mask::kubestep\\\\r::error title=x::pwned-probe \\\\033[2J'; exit 1"]
`;

/** Workflow commands the runner would obey: lines (split on \\r and \\n) outside stop-commands. */
function commandsObeyed(output: string): string[] {
  const obeyed: string[] = [];
  let stopToken: string | undefined;
  for (const raw of output.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (stopToken !== undefined) {
      if (line === `::${stopToken}::`) stopToken = undefined;
      continue;
    }
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) stopToken = stop[1];
    else if (line.startsWith('::')) obeyed.push(line);
  }
  return obeyed;
}

/** Whether `text` holds a carriage return, ESC or BEL. */
const hasControl = (text: string) => ['\r', '\u001b', '\u0007'].some((c) => text.includes(c));

async function failingDependency(env: Record<string, string>) {
  const r = await runCli(
    [
      'run',
      '-f',
      manifestFile(jobYaml('never-runs', 'echo never')),
      '--deps',
      manifestFile(DEP, 'deps.yaml'),
      '-n',
      t.ns,
      '--deps-timeout',
      '15s',
    ],
    { env },
  );
  expect(r.code, r.stderr).toBe(3);
  // What kubestep printed of the probe's output and of the log (so the test exercises them).
  expect(r.stderr).toMatch(/Readiness probe failed: FATAL/);
  expect(r.stderr).toContain('starting');
  return r;
}

it('GitHub Actions: no workflow command from a container, through probe events or log lines', async () => {
  const r = await failingDependency({ GITHUB_ACTIONS: 'true' });
  const obeyed = commandsObeyed(r.stdout + '\n' + r.stderr);
  expect(obeyed.filter((c) => /pwned|add-mask/.test(c))).toEqual([]);
  // What is obeyed is kubestep's own: groups and its annotations.
  for (const c of obeyed) expect(c).toMatch(/^::(group::|endgroup::|error title=)/);
  expect(obeyed.some((c) => c.startsWith('::error title='))).toBe(true);
  expect(hasControl(r.stdout + r.stderr)).toBe(false);
});

it("plain CI output: the container's control characters are visible, none reaches the terminal", async () => {
  const r = await failingDependency({ CI: 'true' });
  const all = r.stdout + r.stderr;
  expect(hasControl(all)).toBe(false);
  expect(r.stderr).toContain('FATAL\\r::add-mask::kubestep\\r::error title=x::pwned-probe ^[[2J');
  expect(r.stderr).toMatch(/starting\\r::error::pwned-log \^\[\[2J\^\[\]52;c;cHduZWQ=/);
  expect(commandsObeyed(all).filter((c) => /pwned|add-mask/.test(c))).toEqual([]);
});
