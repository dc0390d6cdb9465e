// Hostile input: broken YAML, wrong kinds, huge documents, bad variables, names and labels,
// duplicate names, bad flags and durations, unreadable files, kubeconfigs that cannot be used,
// and Jobs that only the API server's validation rejects. Every case must end with exit 2 and
// a message naming the problem (and, for a manifest, the file and document), print no env value
// of a manifest, and create nothing (checked through the API after the whole corpus ran).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { KubeObject } from '../src/kube/types.js';
import { RUN_KINDS, runCli, useTestNamespace } from './harness.js';

const t = useTestNamespace('badinput');
const ADMIN_KUBECONFIG = process.env.KUBECONFIG!;

/** An env value in every Job of the corpus: no message may print it. */
const SECRET_VALUE = 'never-print-this-value';

const job = (name: string, extra = '', spec = 'backoffLimit: 0') => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  ${spec}
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:local
          imagePullPolicy: Never
          command: ["sh", "-c", "true"]
          env: [{name: TOKEN, value: ${SECRET_VALUE}}]
${extra}`;
const good = job('good');
const withLabel = (labels: string) =>
  good.replace('  name: good\n', `  name: good\n  labels: ${labels}\n`);
const container = (extra: string) =>
  good.replace(
    '          imagePullPolicy: Never\n',
    `          imagePullPolicy: Never\n          ${extra}\n`,
  );
const DEPS_OK = `apiVersion: v1
kind: ConfigMap
metadata: {name: "settings-\${RUN_ID}"}
data: {mode: test}
---
apiVersion: v1
kind: Pod
metadata: {name: "db-\${RUN_ID}"}
spec:
  containers: [{name: db, image: busybox:local, imagePullPolicy: Never, command: [sleep, "60"]}]
`;

interface Case {
  /** The test manifests (-f FILE, FILE = <case>.yaml); absent: `args` say everything. */
  tests?: string;
  /** Dependencies (--deps <case>-deps.yaml). */
  deps?: string;
  args?: string[];
  /** Fragments the error must contain; `{f}` is the -f file's path, `{d}` the deps file's. */
  want: string[];
}

const CASES: Record<string, Case> = {
  // YAML that does not parse.
  'yaml-unclosed-flow': {
    tests: `${good}---\nkind: [Job\n`,
    want: ['{f}: document 2 (line 16)', 'YAML error at line 18', 'end with a ]'],
  },
  'yaml-bad-indent': {
    tests: 'apiVersion: batch/v1\nkind: Job\n metadata:\n  name: x\n',
    want: ['{f}: document 1 (line 1)', 'YAML error at line 2'],
  },
  'yaml-alias-bomb': {
    tests: [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map(
        (k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`,
      ),
    ].join('\n'),
    want: ['{f}: document 1 (line 1)', 'YAML aliases expand too far'],
  },
  'variable-in-key': {
    tests: good.replace('  name: good\n', '  name: good\n  labels: {"${WHICH}": x}\n'),
    want: ['{f}: document 1, line', 'in the mapping key "${WHICH}"'],
  },
  'variable-unquoted-in-flow': {
    tests: good.replace('  name: good\n', '  name: good\n  labels: {app: web-${RUN_ID}}\n'),
    want: ['{f}: document 1 (line 1)', 'must be quoted: "web-${RUN_ID}"'],
  },
  'yaml-tab': {
    tests: 'apiVersion: batch/v1\nkind: Job\nmetadata:\n\tname: x\n',
    want: ['{f}: document 1', 'Tabs are not allowed'],
  },
  'yaml-duplicate-key': {
    tests: 'apiVersion: batch/v1\nkind: Job\nkind: Job\nmetadata: {name: x}\n',
    want: ['{f}: document 1', 'Map keys must be unique'],
  },
  'yaml-scalar': { tests: 'just a string\n', want: ['{f}: document 1', 'is not a YAML mapping'] },
  'yaml-list': { tests: '- a\n- b\n', want: ['{f}: document 1', 'is not a YAML mapping'] },
  'binary-file': {
    tests: '\u0000\u0001\u0002\u001f\u008b\u0008 not yaml \u0000',
    want: ['{f}: document 1', 'is not a YAML mapping'],
  },
  'empty-file': { tests: '', want: ['the manifests hold no documents'] },
  'only-comments': { tests: '# nothing\n', want: ['the manifests hold no documents'] },
  // Wrong kinds.
  'kind-pod-in-tests': {
    tests: `${good}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n`,
    want: ['{f}: document 2 (line 16)', 'is a v1 Pod; -f takes batch/v1 Jobs only'],
  },
  'kind-deployment': {
    tests: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n',
    want: ['{f}: document 1', 'apps/v1 Deployment; -f takes batch/v1 Jobs only'],
  },
  'kind-cronjob': {
    tests: 'apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n',
    want: ['{f}: document 1', 'batch/v1beta1 CronJob'],
  },
  'job-wrong-apiversion': {
    tests: good.replace('batch/v1', 'batch/v2'),
    want: ['{f}: document 1', 'is a batch/v2 Job'],
  },
  'no-kind': {
    tests: 'apiVersion: batch/v1\nmetadata: {name: x}\n',
    want: ['{f}: document 1', 'without kind'],
  },
  'job-in-deps': {
    tests: good,
    deps: job('other'),
    want: ['{d}: document 1', 'is a batch/v1 Job; --deps takes'],
  },
  'ingress-in-deps': {
    tests: good,
    deps: 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\n',
    want: ['{d}: document 1', 'networking.k8s.io/v1 Ingress; --deps takes'],
  },
  // Huge documents.
  'huge-document': {
    tests: good.replace(
      '  name: good\n',
      `  name: good\n  annotations: {big: "${'x'.repeat(3 * 1024 * 1024)}"}\n`,
    ),
    want: ['{f}: document 1', 'Request entity too large', 'larger than the API server accepts'],
  },
  // Variables.
  'unterminated-variable': {
    tests: job('v-${RUN_ID'),
    want: ['{f}: document 1, line 4', '"${" has no closing "}"'],
  },
  'undefined-variable': {
    tests: job('v-${NOT_SET_ANYWHERE}'),
    want: ['{f}: document 1, line 4', '${NOT_SET_ANYWHERE} is not defined'],
  },
  'bad-variable-name': {
    tests: job('v-${1X}'),
    want: ['{f}: document 1, line 4', '"${1X}" is not a variable name'],
  },
  'variable-makes-bad-name': {
    tests: job('v-${UPPER}'),
    args: ['--set', 'UPPER=ABC'],
    want: ['{f}: document 1', 'metadata.name "v-ABC" must consist of lower case'],
  },
  'variable-makes-long-name': {
    tests: job('a-very-long-test-job-name-here-${RUN_ID}'),
    args: ['--run-id', 'b'.repeat(40)],
    want: ['{f}: document 1', 'is 71 characters long; the limit is 63'],
  },
  // Names and labels.
  'name-64': { tests: job('a'.repeat(64)), want: ['{f}: document 1', 'the limit is 63'] },
  'name-uppercase': { tests: job('Tests'), want: ['{f}: document 1', '"Tests" must consist'] },
  'name-underscore': { tests: job('my_tests'), want: ['{f}: document 1', '"my_tests"'] },
  'no-name': {
    tests: good.replace('  name: good\n', '  labels: {a: b}\n'),
    want: ['{f}: document 1', 'metadata.name is missing'],
  },
  'label-value-invalid': {
    tests: withLabel('{suite: "not valid!"}'),
    want: ['{f}: document 1', 'metadata.labels.suite value "not valid!"'],
  },
  'label-value-long': {
    tests: withLabel(`{suite: ${'x'.repeat(64)}}`),
    want: ['{f}: document 1', 'is 64 characters long; the limit is 63'],
  },
  'label-key-invalid': {
    tests: withLabel('{"-bad": x}'),
    want: ['{f}: document 1', 'key "-bad"'],
  },
  'duplicate-names': {
    tests: `${good}---\n${good}`,
    want: ['{f}: document 2', 'is also defined in {f}: document 1', 'give each Job its own name'],
  },
  // Jobs kubestep cannot run.
  'restart-always': {
    tests: good.replace('restartPolicy: Never', 'restartPolicy: Always'),
    want: ['{f}: document 1', 'restartPolicy is "Always"'],
  },
  'no-containers': {
    tests:
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {template: {spec: {restartPolicy: Never, containers: []}}}\n',
    want: ['{f}: document 1', 'containers is empty'],
  },
  'no-template': {
    tests: 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {}\n',
    want: ['{f}: document 1', 'spec.template.spec is missing'],
  },
  'no-image': {
    tests: good.replace('          image: busybox:local\n', ''),
    want: ['{f}: document 1', 'containers[0] has no image'],
  },
  'other-namespace': {
    tests: good.replace('  name: good\n', '  name: good\n  namespace: somewhere-else\n'),
    want: ['{f}: document 1', 'metadata.namespace is "somewhere-else" but --namespace is'],
  },
  // Only the API server's validation finds these (server-side dry-run); the valid dependencies
  // beside them must not be created either.
  'api-negative-backoff': {
    tests: job('neg', '', 'backoffLimit: -1'),
    deps: DEPS_OK,
    want: ['{f}: document 1', 'the API server refuses job/neg', 'spec.backoffLimit'],
  },
  'api-bad-quantity': {
    tests: container('resources: {limits: {cpu: lots}}'),
    deps: DEPS_OK,
    want: ['{f}: document 1', 'the API server refuses job/good', 'quantities must match'],
  },
  'api-bad-port': {
    tests: container('ports: [{containerPort: 99999}]'),
    want: ['{f}: document 1', 'the API server refuses job/good', 'must be between 1 and 65535'],
  },
  'api-bad-env-name': {
    tests: good.replace('{name: TOKEN,', '{name: "1 BAD",'),
    want: ['{f}: document 1', 'the API server refuses job/good', 'env[0].name'],
  },
  'api-bad-service-in-deps': {
    tests: good,
    deps: 'apiVersion: v1\nkind: Service\nmetadata: {name: "db-${RUN_ID}"}\nspec: {ports: [{port: 0}]}\n',
    want: ['{d}: document 1', 'the API server refuses service/db-', 'spec.ports[0].port'],
  },
  // Flags.
  'unknown-flag': {
    tests: good,
    args: ['--no-such-flag'],
    want: ['unknown option --no-such-flag'],
  },
  'bare-manifest': { args: ['run', 'tests.yaml'], want: ['-f FILE is required'] },
  'bad-duration': {
    tests: good,
    args: ['--timeout', 'soon'],
    want: ['--timeout "soon" is not a duration'],
  },
  'negative-duration': { tests: good, args: ['--grace', '-5s'], want: ['--grace "-5s"'] },
  'duration-without-unit': { tests: good, args: ['--timeout', '30'], want: ['--timeout "30"'] },
  'bad-choice': {
    tests: good,
    args: ['--cleanup', 'sometimes'],
    want: ['Argument: cleanup, Given: "sometimes"'],
  },
  'bad-set': { tests: good, args: ['--set', 'NOEQUALS'], want: ['--set "NOEQUALS"'] },
  'bad-run-id': { tests: good, args: ['--run-id', '***'], want: ['--run-id "***" has no letter'] },
  'bad-namespace': { tests: good, args: ['-n', 'Bad_NS'], want: ['--namespace "Bad_NS"'] },
  // The namespace's ServiceAccount may do nothing elsewhere (exit 3, see test/run-rbac); with
  // cluster-wide rights the dry run finds that the namespace does not exist.
  'missing-namespace': {
    tests: good,
    args: ['-n', 'no-such-namespace-here', '--kubeconfig', '{admin}'],
    want: ['{f}: document 1', 'namespace no-such-namespace-here does not exist'],
  },
  'stdin-twice': {
    tests: good,
    args: ['--deps', '-', '-f', '-'],
    want: ['(stdin) may be given only once'],
  },
  // Files that cannot be read.
  'missing-file': {
    args: ['run', '-f', '/nonexistent/tests.yaml'],
    want: ['cannot read manifest /nonexistent/tests.yaml: no such file'],
  },
  'directory-as-file': {
    args: ['run', '-f', tmpdir()],
    want: [`cannot read manifest ${tmpdir()}: is a directory`],
  },
  'missing-deps-file': {
    tests: good,
    args: ['--deps', '/nonexistent/deps.yaml'],
    want: ['cannot read manifest /nonexistent/deps.yaml'],
  },
  // Kubeconfigs that cannot be used.
  'missing-context': {
    tests: good,
    args: ['--context', 'nope'],
    want: ['--context nope is not in the kubeconfig'],
  },
  'missing-current-context': {
    tests: good,
    args: ['--kubeconfig', '{kubeconfig:current-context: gone}'],
    want: ['has no usable current context ("gone"'],
  },
  'missing-kubeconfig': {
    tests: good,
    args: ['--kubeconfig', '/nonexistent/kubeconfig'],
    want: ['--kubeconfig names /nonexistent/kubeconfig, which does not exist'],
  },
  'kubeconfig-not-yaml': {
    tests: good,
    args: ['--kubeconfig', '{kubeconfig:not: [yaml}'],
    want: ['cannot read kubeconfig'],
  },
};

it(`every case of the bad-input corpus (${Object.keys(CASES).length}) exits 2, says what and where, and creates nothing`, async () => {
  expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(40);
  const dir = mkdtempSync(join(tmpdir(), 'kubestep-bad-input-'));
  const saKubeconfig = readFileSync(t.kubeconfig, 'utf8');
  /** `{kubeconfig:TEXT}`: a kubeconfig file; `current-context: X` edits the test one. */
  const kubeconfigFile = (name: string, spec: string) => {
    const path = join(dir, `${name}-kubeconfig`);
    const m = /^current-context: (.*)$/.exec(spec);
    writeFileSync(
      path,
      m ? saKubeconfig.replace(/^current-context: .*$/m, `current-context: ${m[1]}`) : spec,
    );
    return path;
  };
  const runCase = async ([name, c]: [string, Case]) => {
    const f = join(dir, `${name}.yaml`);
    const d = join(dir, `${name}-deps.yaml`);
    const args = c.tests === undefined ? [] : ['run', '-f', f];
    if (c.tests !== undefined) writeFileSync(f, c.tests);
    if (c.deps !== undefined) {
      writeFileSync(d, c.deps);
      args.push('--deps', d);
    }
    for (const a of c.args ?? []) {
      const k = /^\{kubeconfig:(.*)\}$/s.exec(a);
      args.push(a === '{admin}' ? ADMIN_KUBECONFIG : k ? kubeconfigFile(name, k[1]!) : a);
    }
    if (!args.some((a) => a === '-n' || a === '--namespace')) args.push('-n', t.ns);
    const r = await runCli(args, { stdin: good, timeoutMs: 60_000 });
    return { name, c, r, f, d };
  };
  // Six at a time: the cases are independent.
  const entries = Object.entries(CASES);
  const results: Awaited<ReturnType<typeof runCase>>[] = [];
  for (let i = 0; i < entries.length; i += 6) {
    results.push(...(await Promise.all(entries.slice(i, i + 6).map(runCase))));
  }
  // All problems at once, one line per case.
  const problems: string[] = [];
  for (const { name, c, r, f, d } of results) {
    const error = r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('kubestep: run '))
      .join('\n')
      .trim();
    const fail = (why: string) =>
      problems.push(`${name}: ${why}\n    got (exit ${r.code}): ${error}`);
    if (r.code !== 2) fail('exit code is not 2');
    for (const w of c.want) {
      const want = w.replaceAll('{f}', f).replaceAll('{d}', d);
      if (!error.includes(want)) fail(`no ${JSON.stringify(want)}`);
    }
    if (!error.startsWith('kubestep: error: ')) fail('not a kubestep error');
    if (error.includes(SECRET_VALUE)) fail('prints an env value of the manifest');
    if (/Exception|\n\s+at /.test(error)) fail('a raw exception or stack');
    if (r.stdout !== '') fail(`stdout: ${r.stdout}`);
  }
  expect(problems.join('\n')).toBe('');
  // Nothing was created: the namespace holds only what Kubernetes puts in every namespace.
  const found = await Promise.all(
    RUN_KINDS.map(async (res) =>
      (await t.client.list<KubeObject>(res, t.ns, {}, AbortSignal.timeout(10_000))).items.map(
        (o) => `${res.kind}/${o.metadata?.name}`,
      ),
    ),
  );
  const created = found
    .flat()
    .filter(
      (o) => o !== 'configmap/kube-root-ca.crt' && !/^secret\/(default|kubestep)-token-/.test(o),
    );
  expect(created).toEqual([]);
});
