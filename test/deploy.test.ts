// deploy/ (issue 22, in progress) against the real cluster, called directly (the `kubestep
// deploy` command is not wired yet): apply, rollout waiting, failing fast on the new revision's
// pods with the right outcome, and nothing applied when the dry run refuses an object.
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { InfraError } from '../src/core/errors.js';
import type { Outcome } from '../src/core/outcome.js';
import { deploy, type DeployObject } from '../src/deploy/deploy.js';
import { CONFIGMAPS, DEPLOYMENTS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { DEFAULT_GRACES } from '../src/pods/problems.js';
import { createConsoleOutput } from '../src/report/console.js';
import { manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('deploy');

/** Runs deploy() with a console writing into strings. */
async function run(
  objects: KubeObject[],
  opts: { force?: boolean; readinessGraceMs?: number } = {},
): Promise<{ outcome?: Outcome; error?: unknown; stderr: string; stdout: string; ms: number }> {
  let stdout = '';
  let stderr = '';
  const so = new PassThrough().on('data', (d: Buffer) => (stdout += d.toString()));
  const se = new PassThrough().on('data', (d: Buffer) => (stderr += d.toString()));
  const out = createConsoleOutput({
    stdout: so,
    stderr: se,
    mode: 'plain',
    color: false,
    prefix: true,
    verbose: true,
    redact: (s) => s,
    masks: [],
    now: Date.now,
  });
  const items: DeployObject[] = objects.map((o, i) => ({
    object: { ...o, metadata: { ...o.metadata, namespace: t.ns } },
    origin: `test.yaml: document ${i + 1}`,
  }));
  const started = Date.now();
  try {
    const outcome = await deploy(
      { client: t.client, out, now: Date.now },
      {
        objects: items,
        force: opts.force ?? false,
        limits: {
          graces: DEFAULT_GRACES,
          maxRestarts: 2,
          readinessGraceMs: opts.readinessGraceMs ?? 60_000,
        },
      },
      AbortSignal.timeout(150_000),
    );
    return { outcome, stderr, stdout, ms: Date.now() - started };
  } catch (error) {
    return { error, stderr, stdout, ms: Date.now() - started };
  }
}

const web = (image: string, command: string, readiness = 'true'): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image,
              imagePullPolicy: 'Never',
              command: ['sh', '-c', command],
              readinessProbe: { exec: { command: ['sh', '-c', readiness] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  }) as KubeObject;
const settings: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'web-settings' },
  data: { greeting: 'hi' },
} as KubeObject;

it('a good rollout, then a new image that cannot be pulled (stuck, old pod untouched), a crash (failed, last log lines), a readiness probe that never passes', async () => {
  const good = await run([web('busybox:local', 'echo v1 up; sleep 3600'), settings]);
  expect(good.outcome, good.stderr).toMatchObject({ kind: 'succeeded' });
  expect(good.stderr).toContain('applied configmap/web-settings');
  expect(good.stderr.indexOf('applied configmap/web-settings')).toBeLessThan(
    good.stderr.indexOf('applied deployment/web'),
  );
  expect(good.stderr).toContain('deployment/web: deployment "web" successfully rolled out');

  const pull = await run([web('busybox:nope', 'sleep 3600')]);
  expect(pull.outcome, pull.stderr).toMatchObject({
    kind: 'infra-error',
    reason: 'PodCannotStart',
  });
  expect(pull.stderr).toMatch(/rollout of deployment\/web cannot start/);
  expect(pull.stderr).toContain('ErrImageNeverPull');
  console.log(`ErrImageNeverPull: verdict after ${pull.ms} ms`);

  const crash = await run([web('busybox:local', 'echo "panic: no config"; exit 2')]);
  expect(crash.outcome, crash.stderr).toMatchObject({ kind: 'failed', reason: 'RolloutFailed' });
  expect(crash.stderr).toMatch(/rollout of deployment\/web failed/);
  expect(crash.stdout).toContain('panic: no config');
  console.log(`crash at start: verdict after ${crash.ms} ms`);

  const unready = await run([web('busybox:local', 'sleep 3600', 'false')], {
    readinessGraceMs: 8_000,
  });
  expect(unready.outcome, unready.stderr).toMatchObject({
    kind: 'failed',
    reason: 'RolloutFailed',
  });
  expect(unready.stderr).toMatch(/without becoming ready/);
  console.log(`readiness never: verdict after ${unready.ms} ms`);
  // Through every failure the first version kept running: the old ReplicaSet's pod is ready.
  const d = await t.client.get<KubeObject & { status?: { readyReplicas?: number } }>(
    DEPLOYMENTS,
    t.ns,
    'web',
    AbortSignal.timeout(10_000),
  );
  expect(d?.status?.readyReplicas).toBe(1);
}, 400_000);

it('a conflict with another field manager: nothing is applied, the field and the manager are named', async () => {
  await t.client.apply(
    CONFIGMAPS,
    t.ns,
    'owned',
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'owned' },
      data: { mode: 'theirs' },
    } as KubeObject,
    { manager: 'helm' },
    AbortSignal.timeout(10_000),
  );
  const mine = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'owned' },
    data: { mode: 'mine' },
  } as KubeObject;
  const fresh = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'fresh' },
    data: { a: 'b' },
  } as KubeObject;
  const r = await run([fresh, mine]);
  expect(r.error).toBeInstanceOf(InfraError);
  expect((r.error as Error).message).toMatch(
    /nothing was applied.*\n.*configmap\/owned.*conflict with "helm"/,
  );
  expect((r.error as Error).message).toContain('--force-conflicts');
  expect(
    await t.client.get(CONFIGMAPS, t.ns, 'fresh', AbortSignal.timeout(10_000)),
  ).toBeUndefined();
  const forced = await run([fresh, mine], { force: true });
  expect(forced.outcome, forced.stderr).toMatchObject({ kind: 'succeeded' });
});

it('kubestep deploy: exit 0 when rolled out, exit 1 with the crash and its last line, exit 2 for a kind the cluster does not serve', async () => {
  const app = manifestFile(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "\${COMMAND}"]
`);
  const good = await runCli(['deploy', '-f', app, '-n', t.ns, '--set', 'COMMAND=sleep 3600']);
  expect(good.code, good.stderr).toBe(0);
  expect(good.stderr).toContain('DEPLOYED: the rollout is done');
  const crash = await runCli([
    'deploy',
    '-f',
    app,
    '-n',
    t.ns,
    '--set',
    'COMMAND=echo "fatal: bad flag"; exit 4',
  ]);
  expect(crash.code, crash.stderr).toBe(1);
  expect(crash.stderr).toMatch(/rollout of deployment\/api failed/);
  expect(crash.stdout).toContain('fatal: bad flag');
  const widget = manifestFile('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
  const unknown = await runCli(['deploy', '-f', widget, '-n', t.ns]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('the cluster does not serve Widget of example.com/v1');
}, 200_000);
