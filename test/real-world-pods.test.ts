// Pods as people write them (issue 20): a Job that cannot get a pod, volumes that cannot mount,
// octal modes, and the Job controller deleting surplus pods.
import { expect, it } from 'vitest';
import { jobYaml, manifestFile, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('realworld');

/** jobYaml with lines added to the pod spec (after restartPolicy) and to the container. */
function job(name: string, script: string, podSpec: string, container = ''): string {
  return jobYaml(name, script, { extra: container }).replace(
    '      restartPolicy: Never\n',
    `      restartPolicy: Never\n${podSpec}`,
  );
}

it('a Job whose ServiceAccount does not exist: exit 3 after --pod-create-grace, the event and what to do', async () => {
  const f = manifestFile(job('no-sa', 'echo never', '      serviceAccountName: missing-sa\n'));
  const r = await runCli(['run', '-f', f, '-n', t.ns, '--pod-create-grace', '5s']);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(
    /job\/no-sa cannot start: no pod can be created: Error creating: .*serviceaccount "missing-sa" not found \(for [\d.]+ s\)/,
  );
  expect(r.stderr).toContain(
    "what to do: create the ServiceAccount missing-sa in the Job's namespace, or fix spec.template.spec.serviceAccountName",
  );
  expect(r.stderr).toMatch(/events of job\/no-sa:\n.*Warning +FailedCreate/);
  expect(r.stdout).toBe('');
});

it.each([
  ['Secret', 'secret: { secretName: nope-secret }', 'secret "nope-secret" not found'],
  ['ConfigMap', 'configMap: { name: nope-cm }', 'configmap "nope-cm" not found'],
])(
  'a %s volume that does not exist: exit 3 after --config-error-grace, named',
  async (kind, source, words) => {
    const name = `no-${kind.toLowerCase()}`;
    const f = manifestFile(
      job(
        name,
        'echo never',
        `      volumes:\n        - name: v\n          ${source}\n`,
        '          volumeMounts: [{ name: v, mountPath: /v }]\n',
      ),
    );
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--config-error-grace', '5s']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      `cannot start: FailedMount: MountVolume.SetUp failed for volume "v" : ${words}`,
    );
    expect(r.stderr).toContain(
      `what to do: create the ${kind} nope-${kind === 'Secret' ? 'secret' : 'cm'} in the pod's namespace`,
    );
  },
);

it('defaultMode: 0700 is octal, as kubectl reads it', async () => {
  const deps = manifestFile(
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "modes-${RUN_ID}"}\ndata: {run.sh: "echo hi"}\n',
    'deps.yaml',
  );
  const f = manifestFile(
    job(
      'modes',
      'stat -L -c %a /cfg/run.sh',
      '      volumes:\n        - name: cfg\n          configMap: { name: "modes-${RUN_ID}", defaultMode: 0700 }\n',
      '          volumeMounts: [{ name: cfg, mountPath: /cfg }]\n',
    ),
  );
  const r = await runCli(['run', '-f', f, '--deps', deps, '-n', t.ns]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('700\n');
});

it('the surplus pod the Job controller deletes when the Job fails is not "someone else", nor the reason', async () => {
  // parallelism 2 on one node: the pod that makes the directory fails, the other sleeps until
  // the Job controller deletes it.
  const f = manifestFile(
    job(
      'surplus',
      'if mkdir /race/lock; then echo failing; exit 4; else sleep 120; fi',
      '      volumes:\n        - name: race\n          hostPath: { path: "/tmp/kubestep-race-${RUN_ID}", type: DirectoryOrCreate }\n',
      '          volumeMounts: [{ name: race, mountPath: /race }]\n',
    ).replace('  backoffLimit: 0\n', '  backoffLimit: 0\n  parallelism: 2\n  completions: 2\n'),
  );
  const r = await runCli(['run', '-f', f, '-n', t.ns, '--grace', '60s']);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/someone else|not by kubestep/);
  expect(r.stderr).toMatch(
    /job\/surplus failed: .*last: container main of pod\/surplus-\w+ exited with code 4/,
  );
});

it('a dependency that exits at once: its last log lines are in the explanation', async () => {
  const deps = manifestFile(
    [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: "early-${RUN_ID}"}',
      'spec:',
      '  restartPolicy: Never',
      '  containers:',
      '    - name: db',
      '      image: busybox:local',
      '      imagePullPolicy: Never',
      '      command: ["sh", "-c", "echo config file /etc/db.conf is missing; echo giving up; exit 1"]',
      // Like a database's probe: never ready before it exits (without one, a container that
      // exits within milliseconds may be seen Running, i.e. ready, and the race is the test's).
      '      readinessProbe: {exec: {command: ["test", "-f", "/tmp/ready"]}, periodSeconds: 1}',
    ].join('\n') + '\n',
    'deps.yaml',
  );
  const r = await runCli([
    'run',
    '-f',
    manifestFile(jobYaml('after-early', 'echo never')),
    '--deps',
    deps,
    '-n',
    t.ns,
  ]);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(
    /last log lines of pod\/early-\w+, container db:\nkubestep: {5}config file \/etc\/db.conf is missing\nkubestep: {5}giving up\n/,
  );
});

it('fields a 1.20 API server drops: named, exit 2, nothing created; --allow-dropped-fields warns and runs', async () => {
  const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {name: dropped}
spec:
  backoffLimit: 0
  completions: 1
  completionMode: Indexed
  backoffLimitPerIndex: 1
  suspend: true
  successPolicy:
    rules: [{succeededIndexes: "0"}]
  podFailurePolicy:
    rules: [{action: FailJob, onExitCodes: {containerName: main, operator: In, values: [42]}}]
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      initContainers:
        - name: side
          image: busybox:local
          imagePullPolicy: Never
          restartPolicy: Always
          command: ["sh", "-c", "echo side"]
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo main"]
`);
  const r = await runCli(['run', '-f', f, '-n', t.ns]);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(
    'tests.yaml: document 1 (line 1): the API server drops spec.completionMode, spec.backoffLimitPerIndex, spec.suspend, spec.successPolicy, spec.podFailurePolicy, spec.template.spec.initContainers[0].restartPolicy',
  );
  expect(r.stderr).toContain('pass --allow-dropped-fields');
  expect(r.stderr).toContain(
    'native sidecars need Kubernetes 1.28 or newer: here the sidecar would be an init container that never ends',
  );
  expect(r.stderr).not.toContain('created job/');
  const allowed = await runCli(['run', '-f', f, '-n', t.ns, '--allow-dropped-fields']);
  expect(allowed.code, allowed.stderr).toBe(0);
  expect(allowed.stderr).toMatch(
    /warning: .*the API server drops spec.completionMode.* \(--allow-dropped-fields: going on without them\)/,
  );
  expect(allowed.stdout).toContain('main');
});

it('dependencies: a Pod whose Secret volume does not exist, a Deployment whose ServiceAccount does not: exit 3, named, no test Job', async () => {
  const tests = manifestFile(jobYaml('"never-${RUN_ID}"', 'echo never'));
  const podDep = manifestFile(
    `apiVersion: v1
kind: Pod
metadata: {name: "db-\${RUN_ID}"}
spec:
  containers:
    - {name: db, image: "busybox:local", imagePullPolicy: Never, command: ["sleep", "3600"], volumeMounts: [{name: creds, mountPath: /creds}]}
  volumes:
    - {name: creds, secret: {secretName: db-creds-missing}}
`,
    'deps.yaml',
  );
  const r = await runCli([
    'run',
    '-f',
    tests,
    '--deps',
    podDep,
    '-n',
    t.ns,
    '--config-error-grace',
    '5s',
  ]);
  expect(r.code, r.stderr).toBe(3);
  expect(r.stderr).toMatch(
    /dependency pod\/db-\w+: FailedMount: MountVolume.SetUp failed for volume "creds" : secret "db-creds-missing" not found/,
  );
  expect(r.stderr).toContain('the test Jobs were not created');
  expect(r.stderr).not.toContain('created job/');

  const deployment = manifestFile(
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: "api-\${RUN_ID}"}
spec:
  selector: {matchLabels: {app: "api-\${RUN_ID}"}}
  template:
    metadata: {labels: {app: "api-\${RUN_ID}"}}
    spec:
      serviceAccountName: api-missing
      containers: [{name: api, image: "busybox:local", imagePullPolicy: Never, command: ["sleep", "3600"]}]
`,
    'deps.yaml',
  );
  const d = await runCli([
    'run',
    '-f',
    tests,
    '--deps',
    deployment,
    '-n',
    t.ns,
    '--pod-create-grace',
    '5s',
  ]);
  expect(d.code, d.stderr).toBe(3);
  expect(d.stderr).toMatch(
    /dependency deployment\/api-\w+: no pod can be created: .*serviceaccount "api-missing" not found/,
  );
  expect(d.stderr).not.toContain('created job/');
});
