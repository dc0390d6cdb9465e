// `run --dry-run` and `up --dry-run` (issue 24): everything up to the first create, then a report;
// exit 0 when a real run would start, 2 or 3 as a real run would fail; nothing is created,
// changed or deleted (checked through the API).
import { expect, it } from 'vitest';
import { CONFIGMAPS, JOBS, SERVICES } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import {
  accountWithRules,
  jobYaml,
  kubectl,
  manifestFile,
  rbacRules,
  runCli,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('dry-run');

const deps = `apiVersion: v1
kind: ConfigMap
metadata: {name: "settings-\${RUN_ID}"}
data: {password: "\${PW}"}
---
apiVersion: v1
kind: Service
metadata: {name: "db-\${RUN_ID}"}
spec:
  selector: {app: "db-\${RUN_ID}"}
  ports: [{port: 5432}]
`;

/** Every object of the kinds a run creates in the test namespace, by kind/name. */
async function everything(): Promise<string[]> {
  const lists = await Promise.all(
    [JOBS, CONFIGMAPS, SERVICES].map((res) =>
      t.client.list<KubeObject>(res, t.ns, {}, AbortSignal.timeout(10_000)),
    ),
  );
  return lists
    .flatMap((l, i) =>
      l.items.map((o) => `${['job', 'configmap', 'service'][i]}/${o.metadata?.name}`),
    )
    .filter((n) => n !== 'configmap/kube-root-ca.crt')
    .sort();
}

it('run --dry-run: the cluster version, the names it would create, the stale Job it would replace; exit 0, nothing created or deleted, the secret never shown', async () => {
  // A finished Job of the same name, as an earlier run leaves it with --cleanup never.
  await kubectl(['create', '-n', t.ns, '-f', '-'], jobYaml('suite-dry', 'echo old'));
  await kubectl(['wait', '-n', t.ns, '--for=condition=complete', 'job/suite-dry', '--timeout=60s']);
  const before = await everything();
  const r = await runCli([
    'run',
    '--dry-run',
    '-f',
    manifestFile(jobYaml('suite-dry', 'echo new')),
    '--deps',
    manifestFile(deps, 'deps.yaml'),
    '-n',
    t.ns,
    '--run-id',
    'dry-1',
    '--set-secret',
    'PW=hunter2-dry',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/dry run against Kubernetes v1\.20\.\d+/);
  expect(r.stderr).toContain(
    `would create in namespace ${t.ns}: job/kubestep-run-dry-1 (the run's anchor), configmap/settings-dry-1, service/db-dry-1, job/suite-dry`,
  );
  expect(r.stderr).toMatch(/would be replacing job\/suite-dry \(complete, not by kubestep\)/i);
  expect(r.stderr).toContain('DRY RUN: the server accepts every object');
  expect(r.stdout + r.stderr).not.toContain('hunter2-dry');
  expect(await everything()).toEqual(before);
});

it('run --dry-run fails as a real run would: exit 2 for what the server refuses, exit 3 for missing rights; a feature the cluster lacks is named', async () => {
  // Requests above limits: refused by the API server's validation, not by kubestep's.
  const invalid = jobYaml('too-big', 'true', {
    extra: '          resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}\n',
  });
  const bad = await runCli(['run', '--dry-run', '-f', manifestFile(invalid), '-n', t.ns]);
  expect(bad.code, bad.stderr).toBe(2);
  expect(bad.stderr).toMatch(
    /the API server refuses job\/too-big .*must be less than or equal to memory limit/,
  );

  const sidecar = `apiVersion: batch/v1
kind: Job
metadata: {name: with-sidecar}
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers:
        - {name: proxy, image: busybox:local, restartPolicy: Always, command: [sleep, "3600"]}
      containers:
        - {name: main, image: busybox:local, command: ["true"]}
`;
  const lacks = await runCli(['run', '--dry-run', '-f', manifestFile(sidecar), '-n', t.ns]);
  expect(lacks.stderr).toContain(
    'spec.template.spec.initContainers[0].restartPolicy: native sidecars needs Kubernetes 1.29 or newer; this cluster is 1.20',
  );
  expect(lacks.code, lacks.stderr).toBe(2);

  const noJobs = rbacRules().map((r) =>
    r.resources.includes('jobs') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r,
  );
  const kubeconfig = await accountWithRules(t.client, t.ns, 'no-create', noJobs);
  const denied = await runCli([
    'run',
    '--dry-run',
    '-f',
    manifestFile(jobYaml('denied', 'true')),
    '-n',
    t.ns,
    '--kubeconfig',
    kubeconfig,
  ]);
  expect(denied.code, denied.stderr).toBe(3);
  expect(denied.stderr).toContain('the credentials lack permissions kubestep needs');
  expect(await everything()).not.toContain('job/denied');
});

it('up --dry-run: exit 0, the dependencies it would start, nothing created', async () => {
  const before = await everything();
  const r = await runCli([
    'up',
    '--dry-run',
    '--deps',
    manifestFile(deps, 'deps.yaml'),
    '-n',
    t.ns,
    '--run-id',
    'dry-up',
    '--set-secret',
    'PW=hunter2-up',
  ]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain(
    `would create in namespace ${t.ns}: job/kubestep-run-dry-up (the run's anchor), configmap/settings-dry-up, service/db-dry-up`,
  );
  expect(r.stdout).toBe('');
  expect(r.stdout + r.stderr).not.toContain('hunter2-up');
  expect(await everything()).toEqual(before);
});
