// Cluster test harness: runs the built CLI as a user would, against the cluster named by
// KUBECONFIG, each test file in a namespace of its own that is deleted afterwards.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../src/kube/client.js';
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  JOBS,
  PODS,
  SECRETS,
  SERVICES,
  STATEFULSETS,
  type Resource,
} from '../src/kube/resources.js';
import { runSelector } from '../src/manifests/jobs.js';
import type { Job, KubeObject, Pod } from '../src/kube/types.js';

export const CLI = fileURLToPath(new URL('../build/kubestep.mjs', import.meta.url));
const NAMESPACES: Resource = { api: '/api/v1', plural: 'namespaces', kind: 'namespace' };
const SERVICE_ACCOUNTS: Resource = {
  api: '/api/v1',
  plural: 'serviceaccounts',
  kind: 'serviceaccount',
};

/** A client for checking the cluster from tests. */
function testClient(): KubeClient {
  if (!process.env.KUBECONFIG)
    throw new Error('cluster tests need KUBECONFIG (see README: Running the tests)');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return new KubeClient(kc);
}

const signal = () => AbortSignal.timeout(30_000);

/**
 * Gives the calling test file a client and a fresh namespace (created before its tests, deleted
 * with everything in it after them). Read `t.client` and `t.ns` inside tests and hooks.
 */
export function useTestNamespace(prefix: string): {
  readonly client: KubeClient;
  readonly ns: string;
  /**
   * Kubeconfig of the namespace's ServiceAccount `kubestep`, bound as deploy/rbac.yaml and
   * deploy/rbac-optional.yaml say.
   */
  readonly kubeconfig: string;
} {
  const t = {} as { client: KubeClient; ns: string; kubeconfig: string };
  beforeAll(async () => {
    t.client = testClient();
    t.ns = await createNamespace(t.client, prefix);
    await applyRbac(t.client, t.ns);
    t.kubeconfig = await serviceAccountKubeconfig(t.client, t.ns, 'kubestep', { exists: true });
    // Every CLI run of this file uses the least-privilege ServiceAccount unless told otherwise.
    defaultKubeconfig = t.kubeconfig;
  });
  afterAll(async () => {
    await deleteNamespace(t.client, t.ns);
    await t.client.close();
  });
  return t;
}

let defaultKubeconfig: string | undefined;

const RBAC_API = '/apis/rbac.authorization.k8s.io/v1';
const RBAC: Record<string, Resource> = {
  ServiceAccount: SERVICE_ACCOUNTS,
  Role: { api: RBAC_API, plural: 'roles', kind: 'role' },
  RoleBinding: { api: RBAC_API, plural: 'rolebindings', kind: 'rolebinding' },
};

/** One rule of an RBAC Role. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Creates ServiceAccount `sa` in `ns` bound to a Role of `rules`; returns its kubeconfig. */
export async function accountWithRules(
  client: KubeClient,
  ns: string,
  sa: string,
  rules: PolicyRule[],
): Promise<string> {
  const meta = { name: sa, namespace: ns };
  await client.create(
    RBAC.Role!,
    ns,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules,
    } as KubeObject,
    signal(),
  );
  await client.create(
    RBAC.RoleBinding!,
    ns,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    } as KubeObject,
    signal(),
  );
  return serviceAccountKubeconfig(client, ns, sa);
}

/**
 * The rules of deploy/rbac.yaml (`optional`: of deploy/rbac-optional.yaml, `deploy`: of
 * deploy/rbac-deploy.yaml).
 */
export function rbacRules(which: boolean | 'deploy' = false): PolicyRule[] {
  const file =
    which === 'deploy'
      ? '../deploy/rbac-deploy.yaml'
      : which
        ? '../deploy/rbac-optional.yaml'
        : '../deploy/rbac.yaml';
  const text = readFileSync(new URL(file, import.meta.url), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as { kind?: string; rules?: PolicyRule[] };
    if (o.kind === 'Role') return o.rules!;
  }
  throw new Error(`${file} has no Role`);
}

/**
 * Creates the objects of deploy/rbac.yaml and deploy/rbac-optional.yaml in `ns` (the
 * RoleBindings' subjects moved to `ns`).
 */
async function applyRbac(client: KubeClient, ns: string): Promise<void> {
  for (const file of ['../deploy/rbac.yaml', '../deploy/rbac-optional.yaml']) {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as KubeObject & { subjects?: { namespace?: string }[] };
      const res = RBAC[o.kind ?? ''];
      if (!res) throw new Error(`${file}: unexpected kind ${o.kind}`);
      for (const s of o.subjects ?? []) s.namespace = ns;
      await client.create(res, ns, o, signal());
    }
  }
}

/** Creates a fresh namespace and waits for its default ServiceAccount; returns its name. */
async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `ks-${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create(
    NAMESPACES,
    undefined,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    signal(),
  );
  // Pods cannot be created before the ServiceAccount controller made `default`.
  await until(
    async () => Boolean(await client.get(SERVICE_ACCOUNTS, name, 'default', signal())),
    30_000,
    `serviceaccount default in ${name}`,
  );
  return name;
}

/**
 * Creates ServiceAccount `name` in `ns` (no permissions unless the test binds some) and writes a
 * kubeconfig that authenticates with its token (Kubernetes 1.20: the legacy token Secret).
 */
export async function serviceAccountKubeconfig(
  client: KubeClient,
  ns: string,
  name: string,
  opts: { exists?: boolean } = {},
): Promise<string> {
  if (!opts.exists) {
    await client.create(
      SERVICE_ACCOUNTS,
      ns,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
      signal(),
    );
  }
  let token = '';
  await until(
    async () => {
      const sa = await client.get<KubeObject & { secrets?: { name: string }[] }>(
        SERVICE_ACCOUNTS,
        ns,
        name,
        signal(),
      );
      const secretName = sa?.secrets?.[0]?.name;
      if (!secretName) return false;
      const secret = await client.get<KubeObject & { data?: { token?: string } }>(
        SECRETS,
        ns,
        secretName,
        signal(),
      );
      token = Buffer.from(secret?.data?.token ?? '', 'base64').toString();
      return token !== '';
    },
    30_000,
    `token of serviceaccount ${name}`,
  );
  const admin = new KubeConfig();
  admin.loadFromDefault();
  const cluster = admin.getCurrentCluster()!;
  const ca =
    cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : '');
  return manifestFile(
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${cluster.server}", certificate-authority-data: "${ca}"}}]
users: [{name: ${name}, user: {token: "${token}"}}]
contexts: [{name: sa, context: {cluster: c, user: ${name}, namespace: ${ns}}}]
current-context: sa
`,
    'kubeconfig',
  );
}

/** Deletes a namespace (and everything in it) without waiting. */
async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete(NAMESPACES, undefined, name, { propagationPolicy: 'Background' }, signal());
}

/** Polls `check` every 250 ms until it returns true; throws after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < timeoutMs / 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Jobs and pods in a namespace, for "nothing created" and "nothing left" checks. */
export async function objectsIn(
  client: KubeClient,
  ns: string,
): Promise<{ jobs: Job[]; pods: Pod[] }> {
  const [jobs, pods] = await Promise.all([
    client.list<Job>(JOBS, ns, {}, signal()),
    client.list<Pod>(PODS, ns, {}, signal()),
  ]);
  return { jobs: jobs.items, pods: pods.items };
}

/** Names of objects, for assertion messages. */
export const names = (items: KubeObject[]) => items.map((o) => o.metadata?.name);

/** Writes a manifest to a temporary file; returns its path. */
export function manifestFile(text: string, name = 'tests.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubestep-test-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A batch/v1 Job manifest running `script` in busybox:local. */
export function jobYaml(
  name: string,
  script: string,
  opts: { backoffLimit?: number; extra?: string } = {},
): string {
  return `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  backoffLimit: ${opts.backoffLimit ?? 0}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", ${JSON.stringify(script)}]
${opts.extra ?? ''}`;
}

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  stdin?: string;
  env?: Record<string, string>;
  /** Hard limit; the process is killed after it (the test then fails on the result). */
  timeoutMs?: number;
  /** Called with each stderr/stdout chunk and the child, e.g. to send a signal at the right moment. */
  onOutput?: (
    text: string,
    child: { kill: (s: NodeJS.Signals) => void; pid?: number | undefined },
  ) => void;
  /** The bundle's entry to run; default {@link CLI}. */
  cli?: string;
  /** Working directory; default the test process's. */
  cwd?: string;
}

/** Runs `kubestep ARGS` (the bundle) with Node and collects its output. */
export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.cli ?? CLI, ...args], {
      cwd: opts.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        KUBECONFIG: defaultKubeconfig ?? process.env.KUBECONFIG ?? '',
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 170_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onOutput?.(d.toString(), child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onOutput?.(d.toString(), child);
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

let home: string | undefined;
const kubectlHome = () => (home ??= mkdtempSync(join(tmpdir(), 'kubestep-kubectl-')));

/** kubectl of the local cluster (k8s-local builds it), or $KUBECTL. */
export const KUBECTL = process.env.KUBECTL ?? '/var/tmp/k8s-local/bin/kubectl';

/**
 * Runs `kubectl ARGS` as the cluster admin (the KUBECONFIG of the test process, not kubestep's
 * ServiceAccount), as an earlier CI step would; resolves with its output, rejects when it fails.
 */
export function kubectl(args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, {
      // HOME: kubectl's discovery cache goes to $HOME/.kube/cache, not into the working tree.
      env: {
        PATH: process.env.PATH ?? '',
        KUBECONFIG: process.env.KUBECONFIG ?? '',
        HOME: kubectlHome(),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`kubectl ${args.join(' ')} failed (${code}): ${err}`));
    });
    child.stdin.end(stdin);
  });
}

/**
 * Starts `kubestep ARGS` in the background and resolves once its output contains `ready`: the
 * running process (to kill) and its result.
 */
export async function startCli(
  args: string[],
  ready: string,
  opts: RunCliOptions = {},
): Promise<{ kill: (s: NodeJS.Signals) => void; result: Promise<CliResult> }> {
  let child: { kill: (s: NodeJS.Signals) => void } | undefined;
  let seen = '';
  let onReady!: () => void;
  const isReady = new Promise<void>((r) => (onReady = r));
  const result = runCli(args, {
    ...opts,
    onOutput: (text, c) => {
      child = c;
      seen += text;
      if (seen.includes(ready)) onReady();
      opts.onOutput?.(text, c);
    },
  });
  const r = await Promise.race([isReady.then(() => undefined), result]);
  if (r) throw new Error(`kubestep ended before printing ${JSON.stringify(ready)}: ${r.stderr}`);
  return { kill: (s) => child!.kill(s), result };
}

/** Kinds a run creates: its Jobs (anchor included) and the kinds dependencies may have. */
export const RUN_KINDS = [JOBS, DEPLOYMENTS, STATEFULSETS, PODS, SERVICES, CONFIGMAPS, SECRETS];

/**
 * Every object of run `runId` in namespace `ns` (by the run's label selector), as `kind/name`,
 * with " (deleting)" when its deletion was requested and has not finished.
 */
export async function objectsOf(client: KubeClient, ns: string, runId: string): Promise<string[]> {
  const lists = await Promise.all(
    RUN_KINDS.map(async (res) => {
      const l = await client.list<KubeObject>(
        res,
        ns,
        { labelSelector: runSelector(runId) },
        AbortSignal.timeout(10_000),
      );
      return l.items.map(
        (o) =>
          `${res.kind}/${o.metadata?.name}${o.metadata?.deletionTimestamp ? ' (deleting)' : ''}`,
      );
    }),
  );
  return lists.flat();
}
