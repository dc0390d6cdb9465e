// npm run demo: the examples of examples/ run by kubestep (build/kubestep.mjs) against the local
// cluster of `npm run cluster:up`, each with the exit code it should give. Prints every run as CI
// would show it, then a table of verdicts; exits 0 when each example gave its expected exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const state = process.env.K8S_LOCAL_DIR ?? '/var/tmp/k8s-local';
const kubeconfig = process.env.KUBECONFIG ?? `${state}/kubeconfig`;
const kubectl = existsSync(`${state}/bin/kubectl`) ? `${state}/bin/kubectl` : 'kubectl';
const namespace = process.env.DEMO_NAMESPACE ?? 'kubestep-demo';

/** The examples, as a user runs them: file, extra flags, the exit code kubestep should give. */
const EXAMPLES = [
  {
    what: 'a passing Job',
    args: ['-f', 'examples/hello-job.yaml'],
    expected: 0,
  },
  {
    what: 'a suite of two Jobs, one with an init container',
    args: ['-f', 'examples/suite.yaml'],
    expected: 0,
  },
  {
    what: 'a failing Job with a retry (backoffLimit: 1)',
    args: ['-f', 'examples/failing-job.yaml'],
    expected: 1,
  },
  {
    what: 'tests against a Postgres dependency',
    args: ['-f', 'examples/db-tests.yaml', '--deps', 'examples/postgres.yaml'],
    expected: 0,
  },
];

process.exitCode = await demo();

/** Runs the examples; returns the exit code: 0 when each gave its expected exit code. */
async function demo() {
  if (!existsSync(kubeconfig)) {
    console.error(`demo: no kubeconfig at ${kubeconfig}: run npm run cluster:up first`);
    return 2;
  }
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    TEST_IMAGE: 'busybox:local',
    PG_IMAGE: 'kubestep-postgres:local',
  };
  // kubestep uses a namespace; it does not create one.
  const ns = spawnSync(kubectl, ['create', 'namespace', namespace], { env, encoding: 'utf8' });
  if (ns.status !== 0 && !/AlreadyExists/.test(ns.stderr)) {
    console.error(`demo: cannot create namespace ${namespace}: ${ns.stderr.trim()}`);
    return 3;
  }

  const results = [];
  for (const [i, ex] of EXAMPLES.entries()) {
    const argv = ['run', ...ex.args, '-n', namespace, '--run-id', `demo-${process.pid}-${i + 1}`];
    console.log(`\n=== ${ex.what}: kubestep ${argv.join(' ')} (expected exit ${ex.expected})`);
    const started = Date.now();
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, ['build/kubestep.mjs', ...argv], {
        cwd: root,
        env,
        stdio: 'inherit',
      });
      child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    results.push({ ...ex, code, seconds: (Date.now() - started) / 1000 });
  }

  console.log('\n=== demo: verdicts');
  for (const r of results) {
    const ok = r.code === r.expected;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${r.what}: exit ${r.code} (expected ${r.expected}) in ${r.seconds.toFixed(1)} s`,
    );
  }
  const wrong = results.filter((r) => r.code !== r.expected).length;
  console.log(
    `demo: ${results.length - wrong} of ${results.length} examples gave the exit code they should`,
  );
  return wrong === 0 ? 0 : 1;
}
