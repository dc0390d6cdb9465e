// Shapes users write (issue 20, items 8 and 10): generateName, kind: List, a bare Pod as the test,
// and every problem of the manifests reported at once.
import { expect, it } from 'vitest';
import { manifestFile, objectsOf, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('shapes');

const JOB_GEN = `apiVersion: batch/v1
kind: Job
metadata: {generateName: presync-}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "echo migrating"]
`;

const DEPS_GEN = `apiVersion: v1
kind: Pod
metadata:
  generateName: db-
  labels: {app: db, run: "\${RUN_ID}"}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: db
      image: busybox:local
      imagePullPolicy: Never
      command: ["sleep", "3600"]
`;

it('generateName for a Job and a dependency, twice in a row: a new name each run, both pass, nothing left', async () => {
  const f = manifestFile(JOB_GEN);
  const deps = manifestFile(DEPS_GEN, 'deps.yaml');
  const names: string[] = [];
  for (const id of ['gen-1', 'gen-2']) {
    const r = await runCli(['run', '-f', f, '--deps', deps, '-n', t.ns, '--run-id', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('migrating');
    const job = /created job\/(presync-[a-z2-9]{5}) /.exec(r.stderr);
    const pod = /created pod\/(db-[a-z2-9]{5})/.exec(r.stderr);
    expect(job, r.stderr).not.toBeNull();
    expect(pod, r.stderr).not.toBeNull();
    names.push(job![1]!, pod![1]!);
    expect(await objectsOf(t.client, t.ns, id)).toEqual([]);
  }
  expect(new Set(names).size).toBe(4);
});

it('a kind: List of two Jobs runs both', async () => {
  const f = manifestFile(`apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: "first-\${RUN_ID}"}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: "busybox:local", imagePullPolicy: Never, command: ["echo", "one"]}]
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: "second-\${RUN_ID}"}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: "busybox:local", imagePullPolicy: Never, command: ["echo", "two"]}]
`);
  const r = await runCli(['run', '-f', f, '-n', t.ns, '--run-id', 'list']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('PASSED: all 2 Jobs are Complete');
  expect(r.stdout).toMatch(/\[pod\/first-list-\w+\/main\] one\n/);
  expect(r.stdout).toMatch(/\[pod\/second-list-\w+\/main\] two\n/);
});

it.each([
  ['passes', 'echo connected', 0, /PASSED: the Job is Complete/],
  [
    'fails',
    'echo refused; exit 7',
    1,
    /job\/web-test-connection +Failed .*failed 1 attempt \(backoffLimit 0\); last: container wget of pod\/web-test-connection-\w+ exited with code 7/,
  ],
])('a bare Pod with restartPolicy Never as the test %s', async (_what, script, code, summary) => {
  const f = manifestFile(`apiVersion: v1
kind: Pod
metadata:
  name: web-test-connection
  annotations: {"helm.sh/hook": test}
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox:local
      imagePullPolicy: Never
      command: ["sh", "-c", ${JSON.stringify(script)}]
`);
  const r = await runCli(['run', '-f', f, '-n', t.ns, '--run-id', `pod-${code}`]);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toContain(script.split(';')[0]!.replace('echo ', ''));
  expect(r.stderr).toMatch(summary);
  expect(await objectsOf(t.client, t.ns, `pod-${code}`)).toEqual([]);
});

it('every problem of the manifests at once: variables, names, namespaces, kinds, of tests and dependencies', async () => {
  const f = manifestFile(`apiVersion: batch/v1
kind: Job
metadata: {namespace: elsewhere}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: "\${NO_IMAGE}"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: "ok-\${NO_SUFFIX}"}
spec:
  template:
    spec:
      containers:
        - name: main
          image: busybox:local
          command:
            - sh
            - -c
            - |
              echo \${NO_SUFFIX}
              echo done
`);
  const deps = manifestFile(
    'apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs}\n',
    'deps.yaml',
  );
  const r = await runCli(['run', '-f', f, '--deps', deps, '-n', t.ns, '--run-id', 'all-at-once']);
  expect(r.code, r.stderr).toBe(2);
  for (const want of [
    /tests\.yaml: document 1, line 8: variable \$\{NO_IMAGE\} is not defined/,
    /tests\.yaml: document 2, lines 12, 23: variable \$\{NO_SUFFIX\} is not defined/,
    /tests\.yaml: document 1 \(line 1\): metadata\.name is missing/,
    /tests\.yaml: document 1 \(line 1\): metadata\.namespace is "elsewhere" but --namespace is "ks-shapes-\w+"/,
    /tests\.yaml: document 2 \(line 9\): spec\.template\.spec\.restartPolicy is not set/,
    /deps\.yaml: document 1 \(line 1\): is a apps\/v1 ReplicaSet; --deps takes/,
  ]) {
    expect(r.stderr).toMatch(want);
  }
  expect(r.stderr.match(/\$\{NO_SUFFIX\} is not defined/g)).toHaveLength(1);
  expect(r.stderr).not.toContain('created');
});
