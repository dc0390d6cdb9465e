// deploy/ (issue 22) against the real cluster, called directly and through `kubestep deploy`:
// apply, rollout waiting, failing fast on the new revision's pods with the right outcome, nothing
// applied when the dry run refuses an object, rollback, --diff, and gc/down leaving it alone.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { InfraError } from '../src/core/errors.js';
import type { Outcome } from '../src/core/outcome.js';
import { deploy, type DeployObject } from '../src/deploy/deploy.js';
import { CONFIGMAPS, DEPLOYMENTS, PODS, STATEFULSETS } from '../src/kube/resources.js';
import type { KubeObject, Pod } from '../src/kube/types.js';
import { DEFAULT_GRACES } from '../src/pods/problems.js';
import { createConsoleOutput } from '../src/report/console.js';
import { kubectl, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('deploy');

/** Runs deploy() with a console writing into strings. */
async function run(
  objects: KubeObject[],
  opts: { force?: boolean; readinessGraceMs?: number; rollback?: boolean } = {},
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
        timeoutMs: 140_000,
        rollback: opts.rollback ?? false,
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

  const unready = await run(
    [web('busybox:local', 'echo waiting for the database; sleep 3600', 'false')],
    {
      readinessGraceMs: 8_000,
    },
  );
  expect(unready.outcome, unready.stderr).toMatchObject({
    kind: 'failed',
    reason: 'RolloutFailed',
  });
  expect(unready.stderr).toMatch(
    /without becoming ready \(the readiness probe of container app does not pass\)/,
  );
  expect(unready.stdout).toContain('waiting for the database');
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
  const good = await deployTo(app, ['--set', 'COMMAND=sleep 3600']);
  expect(good.code, good.stderr).toBe(0);
  expect(good.stderr).toContain('DEPLOYED: the rollout is done');
  const crash = await deployTo(app, ['--set', 'COMMAND=echo "fatal: bad flag"; exit 4']);
  expect(crash.code, crash.stderr).toBe(1);
  expect(crash.stderr).toMatch(/rollout of deployment\/api failed/);
  expect(crash.stdout).toContain('fatal: bad flag');
  const widget = manifestFile('apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
  const unknown = await deployTo(widget);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('the cluster does not serve Widget of example.com/v1');
}, 200_000);

/** A Deployment manifest whose container runs `${COMMAND}` in `${IMAGE}`, replicas `${REPLICAS}`. */
const appYaml = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: \${REPLICAS}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: app
          image: \${IMAGE}
          imagePullPolicy: Never
          command: ["sh", "-c", "\${COMMAND}"]
`;
const vars = (command: string, image = 'busybox:local', replicas = 1) => [
  '--set',
  `COMMAND=${command}`,
  '--set',
  `IMAGE=${image}`,
  '--set',
  `REPLICAS=${replicas}`,
];
type Workload = KubeObject & {
  spec: { template: { spec: { containers: { image: string; command: string[] }[] } } };
  status?: { readyReplicas?: number; updatedReplicas?: number; replicas?: number };
};
/** `kubestep deploy -f FILE -n <the test namespace> ARGS`. */
const deployTo = (file: string, args: string[] = []) =>
  runCli(['deploy', '-f', file, '-n', t.ns, ...args]);
const getDeployment = (name: string) =>
  t.client.get<Workload>(DEPLOYMENTS, t.ns, name, AbortSignal.timeout(10_000));

it('--rollback-on-failure: a crashing and an unpullable version are rolled back to the previous template (checked through the API), a new workload is left and named; the result file says so', async () => {
  const app = manifestFile(appYaml('roll'));
  const v1 = await deployTo(app, [...vars('echo v1; sleep 3600')]);
  expect(v1.code, v1.stderr).toBe(0);

  // The crash, with a new Deployment in the same step.
  const both = manifestFile(`${appYaml('roll')}---\n${appYaml('extra')}`);
  const result = join(dirname(both), 'result.json');
  const crash = await deployTo(both, [
    ...vars('echo "fatal: v2"; exit 3'),
    '--rollback-on-failure',
    '-o',
    'json',
    '--output-file',
    result,
  ]);
  expect(crash.code, crash.stderr).toBe(1);
  expect(crash.stdout).toContain('fatal: v2');
  expect(crash.stderr).toMatch(
    /rolling back deployment\/roll to its previous pod template \(app=busybox:local\)/,
  );
  expect(crash.stderr).toContain('rolled back deployment/roll: the previous version runs again');
  const file = JSON.parse(readFileSync(result, 'utf8')) as Record<string, unknown>;
  expect(file).toMatchObject({ outcome: 'failed', reason: 'RolloutFailed', exitCode: 1 });
  expect(file.message).toMatch(
    /rolled back deployment\/roll; left in place \(created by this deploy\): deployment\/extra/,
  );
  const roll = await getDeployment('roll');
  expect(roll?.spec.template.spec.containers[0]?.command).toEqual([
    'sh',
    '-c',
    'echo v1; sleep 3600',
  ]);
  expect(roll?.status).toMatchObject({ readyReplicas: 1, updatedReplicas: 1, replicas: 1 });
  expect(await getDeployment('extra')).toBeDefined();

  // An image that may not be pulled: exit 3, the image put back.
  const pull = await deployTo(app, [
    ...vars('echo v1; sleep 3600', 'busybox:nope'),
    '--rollback-on-failure',
  ]);
  expect(pull.code, pull.stderr).toBe(3);
  expect(pull.stderr).toContain('ErrImageNeverPull');
  expect(pull.stderr).toContain('rolled back deployment/roll');
  const back = await getDeployment('roll');
  expect(back?.spec.template.spec.containers[0]?.image).toBe('busybox:local');
  expect(back?.status).toMatchObject({ readyReplicas: 1, updatedReplicas: 1, replicas: 1 });
  console.log(`rollback: crash ${crash.ms} ms, image ${pull.ms} ms from start to exit`);
}, 300_000);

it('--diff shows a changed image and replica count, masks a Secret value, changes nothing', async () => {
  const secretYaml = (pw: string) =>
    `apiVersion: v1\nkind: Secret\nmetadata: {name: diff-db}\nstringData: {password: "${pw}"}\n`;
  const app = manifestFile(`${appYaml('diffed')}---\n${secretYaml('$' + '{PW}')}`);
  const v1 = await deployTo(app, [...vars('sleep 3600'), '--set-secret', 'PW=first-pass']);
  expect(v1.code, v1.stderr).toBe(0);
  const before = await getDeployment('diffed');
  const d = await deployTo(app, [
    ...vars('sleep 3600', 'busybox:v2', 3),
    '--set-secret',
    'PW=second-pass',
    '--diff',
  ]);
  expect(d.code, d.stderr).toBe(0);
  expect(d.stdout).toContain(`# deployment/diffed in namespace ${t.ns}: would change`);
  expect(d.stdout).toMatch(/^-\s+image: busybox:local$/m);
  expect(d.stdout).toMatch(/^\+\s+image: busybox:v2$/m);
  expect(d.stdout).toMatch(/^-\s+replicas: 1$/m);
  expect(d.stdout).toMatch(/^\+\s+replicas: 3$/m);
  expect(d.stdout).toContain(`# secret/diff-db in namespace ${t.ns}: would change`);
  expect(d.stdout + d.stderr).not.toMatch(/first-pass|second-pass/);
  expect(d.stderr).toMatch(/DIFF: 2 of 2 objects would change; nothing was applied/);
  const after = await getDeployment('diffed');
  expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
  expect(after?.spec.template.spec.containers[0]?.image).toBe('busybox:local');
  const same = await deployTo(app, [
    ...vars('sleep 3600'),
    '--set-secret',
    'PW=first-pass',
    '--diff',
  ]);
  expect(same.code, same.stderr).toBe(0);
  expect(same.stdout).toContain(`# deployment/diffed in namespace ${t.ns}: unchanged`);
  expect(same.stderr).toContain('DIFF: no changes');
}, 200_000);

it('gc -A and down leave deployed objects alone', async () => {
  const app = manifestFile(
    `${appYaml('kept')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept-settings}\ndata: {a: b}\n`,
  );
  const d = await deployTo(app, [...vars('sleep 3600')]);
  expect(d.code, d.stderr).toBe(0);
  await kubectl(['label', 'namespace', t.ns, 'kubestep.dev/gc=enabled', '--overwrite']);
  const admin = { env: { KUBECONFIG: process.env.KUBECONFIG ?? '' } };
  const gc = await runCli(['gc', '-A', '--older-than', '0s'], admin);
  expect(gc.code, gc.stderr).toBe(0);
  const down = await runCli(['down', '--run-id', 'kept', '-n', t.ns]);
  expect(down.code, down.stderr).toBe(0);
  expect(await getDeployment('kept')).toBeDefined();
  expect(
    await t.client.get(CONFIGMAPS, t.ns, 'kept-settings', AbortSignal.timeout(10_000)),
  ).toBeDefined();
}, 120_000);

const jobYamlFor = (name: string, variable: string, annotations = '') => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
${annotations}spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: ${name}
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "\${${variable}}"]
`;

it('a migration Job runs to Complete before the workload changes, a smoke Job in phase rest after the rollout; a failed migration is exit 1 with its log, the workload untouched, the stale Job replaced', async () => {
  const smoke = jobYamlFor('smoke', 'SMOKE', '  annotations: {kubestep.dev/deploy-phase: rest}\n');
  const file = manifestFile(
    `${appYaml('mig-app')}---\n${jobYamlFor('migrate', 'MIGRATE')}---\n${smoke}`,
  );
  const first = await deployTo(file, [
    ...vars('echo app v1; sleep 3600'),
    '--set',
    'MIGRATE=echo migrated to v1',
    '--set',
    'SMOKE=echo smoke ok',
  ]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toContain('migrated to v1');
  expect(first.stdout).toContain('smoke ok');
  const at = (s: string) => first.stderr.indexOf(s);
  expect(at('applied job/migrate')).toBeGreaterThan(-1);
  expect(at('applied job/migrate')).toBeLessThan(at('applied deployment/mig-app'));
  expect(at('deployment "mig-app" successfully rolled out')).toBeLessThan(at('applied job/smoke'));
  expect(first.stderr).toContain('DEPLOYED: 2 Jobs are complete, the rollout is done');

  const second = await deployTo(file, [
    ...vars('echo app v2; sleep 3600'),
    '--set',
    'MIGRATE=echo "migration 2: column exists"; exit 1',
    '--set',
    'SMOKE=echo smoke ok',
  ]);
  expect(second.code, second.stderr).toBe(1);
  expect(second.stderr).toContain('deleting the finished job/migrate of an earlier deploy');
  expect(second.stdout).toContain('migration 2: column exists');
  expect(second.stderr).not.toContain('applied deployment/mig-app');
  const app = await getDeployment('mig-app');
  expect(app?.spec.template.spec.containers[0]?.command).toEqual([
    'sh',
    '-c',
    'echo app v1; sleep 3600',
  ]);

  const bad = manifestFile(
    jobYamlFor('x', 'X', '  annotations: {kubestep.dev/deploy-phase: early}\n'),
  );
  const refused = await deployTo(bad, ['--set', 'X=true']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('annotation kubestep.dev/deploy-phase is "early"');
}, 300_000);

it('a StatefulSet with a partition and a DaemonSet: rolled out as their controllers define it, checked through the API', async () => {
  const sts = manifestFile(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      partition: \${PARTITION}
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: db
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo \${V}; sleep 3600"]
          readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: agent
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo \${V}; sleep 3600"]
`);
  const v1 = await deployTo(sts, ['--set', 'V=v1', '--set', 'PARTITION=0']);
  expect(v1.code, v1.stderr).toBe(0);
  expect(v1.stderr).toContain('all 2 rollouts are done');
  // v2 with partition 1: only the pod of ordinal 1 is updated, and that is the whole rollout.
  const v2 = await deployTo(sts, ['--set', 'V=v2', '--set', 'PARTITION=1']);
  expect(v2.code, v2.stderr).toBe(0);
  expect(v2.stderr).toMatch(
    /statefulset\/db: partitioned rollout complete: 1 new pods have been updated/,
  );
  type Sts = KubeObject & { status?: { currentRevision?: string; updateRevision?: string } };
  const db = await t.client.get<Sts>(STATEFULSETS, t.ns, 'db', AbortSignal.timeout(10_000));
  const pods = await t.client.list<Pod>(
    PODS,
    t.ns,
    { labelSelector: 'app=db' },
    AbortSignal.timeout(10_000),
  );
  const revisionOf = (name: string) =>
    pods.items.find((p) => p.metadata?.name === name)?.metadata?.labels?.[
      'controller-revision-hash'
    ];
  expect(db?.status?.updateRevision).not.toBe(db?.status?.currentRevision);
  expect(revisionOf('db-0')).toBe(db?.status?.currentRevision);
  expect(revisionOf('db-1')).toBe(db?.status?.updateRevision);
  type Ds = KubeObject & {
    metadata: { generation: number };
    status?: {
      observedGeneration?: number;
      updatedNumberScheduled?: number;
      numberAvailable?: number;
    };
  };
  const DAEMONSETS = { ...STATEFULSETS, plural: 'daemonsets', kind: 'daemonset' };
  const agent = await t.client.get<Ds>(DAEMONSETS, t.ns, 'agent', AbortSignal.timeout(10_000));
  expect(agent?.status).toMatchObject({
    observedGeneration: agent?.metadata.generation,
    updatedNumberScheduled: 1,
    numberAvailable: 1,
  });
  expect(v2.stderr).toContain('daemon set "agent" successfully rolled out');
}, 200_000);

it('an object last applied with client-side kubectl apply: the first deploy that changes it names the way (--force-conflicts once), later deploys need nothing', async () => {
  const cm = (mode: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-kubectl}\ndata: {mode: ${mode}}\n`;
  await kubectl(['apply', '-n', t.ns, '-f', '-'], cm('kubectl'));
  const file = (mode: string) => manifestFile(cm(mode));
  const first = await deployTo(file('kubestep-1'));
  expect(first.code).toBe(3);
  expect(first.stderr).toContain('conflict with "kubectl-client-side-apply"');
  expect(first.stderr).toContain(
    'these fields were set by client-side `kubectl apply`: give --force-conflicts once',
  );
  const forced = await deployTo(file('kubestep-1'), ['--force-conflicts']);
  expect(forced.code, forced.stderr).toBe(0);
  expect(forced.stderr).toContain(
    'configmap/from-kubectl: taken over from client-side kubectl apply',
  );
  const later = await deployTo(file('kubestep-2'));
  expect(later.code, later.stderr).toBe(0);
  const now = await t.client.get<KubeObject & { data?: Record<string, string> }>(
    CONFIGMAPS,
    t.ns,
    'from-kubectl',
    AbortSignal.timeout(10_000),
  );
  expect(now?.data).toEqual({ mode: 'kubestep-2' });
}, 120_000);
