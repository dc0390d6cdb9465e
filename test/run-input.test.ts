// Bad input: exit 2, a message naming file and document, and nothing created.
import { describe, expect, it } from 'vitest';
import { SERVICES } from '../src/kube/resources.js';
import {
  type CliResult,
  jobYaml,
  manifestFile,
  names,
  objectsIn,
  runCli,
  serviceAccountKubeconfig,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('input');

const good = jobYaml('good', 'echo good');

describe('invalid manifests', () => {
  it.each([
    ['broken YAML', `${good}---\nkind: [Job\n`, /tests\.yaml: document 2 \(line \d+\): YAML error/],
    [
      'a Pod',
      `${good}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n`,
      /document 2 .*is a v1 Pod; -f takes batch\/v1 Jobs only/,
    ],
    [
      'restartPolicy Always',
      good.replace('restartPolicy: Never', 'restartPolicy: Always'),
      /restartPolicy is "Always"; a Job needs Never or OnFailure/,
    ],
    [
      'no containers',
      `apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {template: {spec: {restartPolicy: Never, containers: []}}}\n`,
      /containers is empty/,
    ],
    [
      'undefined variable',
      jobYaml('v-${NOT_SET_ANYWHERE}', 'true'),
      /variable \$\{NOT_SET_ANYWHERE\} is not defined: pass --set NOT_SET_ANYWHERE=VALUE/,
    ],
    // These pass kubestep's own checks; the API server's dry-run rejects them.
    [
      'invalid for the API server',
      `${good}---\n${jobYaml('neg', 'true', { backoffLimit: -1 })}`,
      /document 2 .*the API server refuses job\/neg in namespace \S+: Invalid: .*spec.backoffLimit: Invalid value: -1/,
    ],
    [
      'undecodable for the API server',
      `${good}---\n${jobYaml('bad-cpu', 'true').replace('imagePullPolicy: Never', 'imagePullPolicy: Never\n          env: [{name: SECRET, value: hunter2}]\n          resources: {limits: {cpu: lots}}')}`,
      /document 2 .*the API server refuses job\/bad-cpu in namespace \S+: BadRequest: .*quantities must match/,
    ],
  ])('%s: exit 2, nothing created', async (_, text, message) => {
    const r = await runCli(['run', '-f', manifestFile(text), '-n', t.ns]);
    await expectNothingCreated(r, message);
  });

  it.each([
    [
      'a Job in --deps',
      good,
      /deps\.yaml: document 1 \(line 1\): is a batch\/v1 Job; --deps takes .* \(test Jobs go in -f\)/,
    ],
    [
      'a StatefulSet with volumeClaimTemplates',
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: busybox:local}]}}\n  volumeClaimTemplates: [{metadata: {name: data}}]\n`,
      /volumeClaimTemplates is not supported/,
    ],
    // Passes kubestep's checks; the API server's dry-run rejects it: no dependency is created.
    [
      'a Service the API server rejects',
      `apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {ports: [{port: 99999}]}\n`,
      /deps\.yaml: document 1 .*the API server refuses service\/svc in namespace \S+: Invalid: .*spec.ports\[0\].port/,
    ],
  ])('%s: exit 2, nothing created', async (_, deps, message) => {
    const r = await runCli([
      'run',
      '-f',
      manifestFile(good),
      '--deps',
      manifestFile(deps, 'deps.yaml'),
      '-n',
      t.ns,
    ]);
    await expectNothingCreated(r, message);
    const services = await t.client.list(SERVICES, t.ns, {}, AbortSignal.timeout(10_000));
    expect(names(services.items)).toEqual([]);
  });

  async function expectNothingCreated(r: CliResult, message: RegExp): Promise<void> {
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const now = await objectsIn(t.client, t.ns);
    expect(names(now.jobs)).toEqual([]);
    expect(names(now.pods)).toEqual([]);
  }

  it('a credential from the environment: exit 2 naming --env, nothing created; with --env it is read', async () => {
    const token = 'oidc-request-token-value';
    const text = jobYaml('tok', 'echo "got $${#T} characters"', {
      extra: '          env: [{ name: T, value: "${ACTIONS_ID_TOKEN_REQUEST_TOKEN}" }]\n',
    });
    const env = { ACTIONS_ID_TOKEN_REQUEST_TOKEN: token };
    const refused = await runCli(['run', '-f', manifestFile(text), '-n', t.ns], { env });
    await expectNothingCreated(
      refused,
      /variable \$\{ACTIONS_ID_TOKEN_REQUEST_TOKEN\} is in the environment, but its name looks like a credential.*--env ACTIONS_ID_TOKEN_REQUEST_TOKEN/,
    );
    expect(refused.stderr).not.toContain(token);
    const allowed = await runCli(
      ['run', '-f', manifestFile(text), '-n', t.ns, '--env', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'],
      { env },
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe(`got ${token.length} characters\n`);
  });

  it('reads a manifest from stdin with -f -', async () => {
    const r = await runCli(['run', '-f', '-', '-n', t.ns], {
      stdin: jobYaml('stdin', 'echo via stdin'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('via stdin\n');
  });

  it('names a missing file', async () => {
    const r = await runCli(['run', '-f', '/nonexistent/tests.yaml', '-n', t.ns]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read manifest /nonexistent/tests.yaml: no such file');
  });
});

describe('cluster access', () => {
  it('exits 2 and says what it looked for when there is no kubeconfig', async () => {
    const r = await runCli(['run', '-f', manifestFile(good)], {
      env: { KUBECONFIG: '', HOME: '/nonexistent' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no cluster access found: looked for --kubeconfig, the KUBECONFIG variable, \/nonexistent\/\.kube\/config and an in-cluster service account/,
    );
  });

  it('exits 2 for a context the kubeconfig does not have', async () => {
    const r = await runCli(['run', '-f', manifestFile(good), '--context', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--context nope is not in the kubeconfig \(it has: /);
  });

  it('exits 3, creating nothing, for a user who may not create Jobs', async () => {
    const kubeconfig = await serviceAccountKubeconfig(t.client, t.ns, 'no-rights');
    const r = await runCli(['run', '-f', manifestFile(good), '--kubeconfig', kubeconfig]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /kubestep: error: the credentials lack permissions kubestep needs \(nothing was created\):\n {2}in namespace \S+: create jobs\.batch, get jobs\.batch, list jobs\.batch, watch jobs\.batch, delete jobs\.batch, patch jobs\.batch, list pods, watch pods, get pods\/log, list events \(nothing is allowed there: check that namespace \S+ exists and is the one meant\)\n/,
    );
    expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
  });

  it('exits 3 when the API server cannot be reached, after retrying', async () => {
    const kubeconfig = manifestFile(
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      'kubeconfig',
    );
    const r = await runCli([
      'run',
      '-f',
      manifestFile(good),
      '--kubeconfig',
      kubeconfig,
      '--api-timeout',
      '2s',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /dry-run create job\/good: .*ECONNREFUSED 127\.0\.0\.1:1.*check that the API server is reachable/,
    );
  });
});
