// Before anything is created: missing permissions and quota refusals end with exit 3. And the
// output people read: GitHub Actions workflow commands, step summary, secrets hidden.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Resource } from '../src/kube/resources.js';
import {
  accountWithRules,
  jobYaml,
  manifestFile,
  names,
  objectsIn,
  rbacRules,
  runCli,
  useTestNamespace,
} from './harness.js';

const t = useTestNamespace('preflight');
const RESOURCE_QUOTAS: Resource = {
  api: '/api/v1',
  plural: 'resourcequotas',
  kind: 'resourcequota',
};

describe('preflight', () => {
  it('names the missing verb when the ServiceAccount may not create Jobs, and creates nothing', async () => {
    // deploy/rbac.yaml without `create` on jobs.
    const rules = rbacRules().map((r) =>
      r.resources.includes('jobs') ? { ...r, verbs: r.verbs.filter((v) => v !== 'create') } : r,
    );
    const kubeconfig = await accountWithRules(t.client, t.ns, 'no-create', rules);
    const f = manifestFile(jobYaml('denied', 'echo never'));
    const r = await runCli(['run', '-f', f, '-n', t.ns], { env: { KUBECONFIG: kubeconfig } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `the credentials lack permissions kubestep needs (nothing was created):\n  in namespace ${t.ns}: create jobs.batch\n`,
    );
    expect(r.stderr).toContain('deploy/rbac.yaml');
    expect(r.stderr).toContain(`kubectl auth can-i create jobs.batch -n ${t.ns}`);
    expect(r.ms).toBeLessThan(5_000);
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs)).toEqual([]);
  });

  it('deploy/rbac.yaml alone runs Jobs; Secrets and kept objects need deploy/rbac-optional.yaml, named before anything is created', async () => {
    const kubeconfig = await accountWithRules(t.client, t.ns, 'base-only', rbacRules());
    const env = { env: { KUBECONFIG: kubeconfig } };
    const job = manifestFile(jobYaml('base-only', 'echo fine'));
    const plain = await runCli(['run', '-f', job, '-n', t.ns], env);
    expect(plain.code, plain.stderr).toBe(0);
    const secret = manifestFile(
      'apiVersion: v1\nkind: Secret\nmetadata: {name: "creds-${RUN_ID}"}\nstringData: {password: pw}\n',
      'deps.yaml',
    );
    const r = await runCli(
      ['run', '-f', job, '--deps', secret, '-n', t.ns, '--cleanup', 'never'],
      env,
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `in namespace ${t.ns}: create secrets, get secrets, list secrets, delete secrets, patch secrets\n`,
    );
    expect(r.stderr).toContain(
      'Grant them with deploy/rbac-optional.yaml (Secret dependencies, --cleanup never or on-success)',
    );
    expect(r.stderr).not.toContain('deploy/rbac.yaml and');
    const left = await objectsIn(t.client, t.ns);
    expect(names(left.jobs)).toEqual([]);
  });

  it('reports a quota refusal as exit 3 (not bad input), naming file and document', async () => {
    await t.client.create(
      RESOURCE_QUOTAS,
      t.ns,
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'no-jobs' },
        spec: { hard: { 'count/jobs.batch': '0' } },
      },
      AbortSignal.timeout(10_000),
    );
    try {
      // The quota controller must have computed the usage before admission enforces it.
      const f = manifestFile(jobYaml('over-quota', 'echo never'));
      let r = await runCli(['run', '-f', f, '-n', t.ns]);
      for (let i = 0; i < 10 && !/exceeded quota/.test(r.stderr); i++) {
        await new Promise((ok) => setTimeout(ok, 1_000));
        r = await runCli(['run', '-f', f, '-n', t.ns]);
      }
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /tests\.yaml: document 1 \(line 1\): the API server refuses job\/over-quota in namespace \S+: .*exceeded quota: no-jobs/,
      );
      expect(r.stderr).toContain('ResourceQuota or LimitRange refuses it');
      expect(names((await objectsIn(t.client, t.ns)).jobs)).toEqual([]);
    } finally {
      await t.client.delete(
        RESOURCE_QUOTAS,
        t.ns,
        'no-jobs',
        { propagationPolicy: 'Background' },
        AbortSignal.timeout(10_000),
      );
    }
  });
});

describe('output', () => {
  const SECRET = 's3cr3t-Value-42';
  const leaky = jobYaml(
    'leaky',
    // The pod prints the secret and tries to issue workflow commands of its own.
    'echo "token is $TOKEN"; echo "::error::injected by the pod"; echo "::endgroup::"; exit 3',
    { extra: `          env: [{ name: TOKEN, value: "\${TOKEN}" }]\n` },
  );

  it('hides --set-secret values in pod logs and messages', async () => {
    const f = manifestFile(leaky);
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--set-secret', `TOKEN=${SECRET}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('token is ***');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // Plain text outside GitHub Actions: no workflow commands, no ANSI colours.
    expect(r.stdout + r.stderr).not.toMatch(/::group::|::stop-commands::/);
    expect(r.stdout + r.stderr).not.toContain('\u001b[');
  });

  // Characters that escaping changes (JSON: " \\; Markdown: | < \\; workflow commands: %25):
  // redaction must come first. The secret reaches kubestep's own text through the container
  // runtime's error for a command that does not exist (the explanation of the failed Job).
  const HOSTILE = 'ZQ7"|<\\%25Q8';
  const badCommand = (name: string) =>
    jobYaml(name, 'unused').replace(/command: .*/, 'command:\n            - /bin/${PW}');

  it('hides a secret with characters that escaping changes: result file, step summary, up errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-hostile-'));
    const summary = join(dir, 'summary.md');
    const result = join(dir, 'result.json');
    writeFileSync(summary, '');
    const r = await runCli(
      [
        'run',
        '-f',
        manifestFile(badCommand('nocmd')),
        '-n',
        t.ns,
        '--set-secret',
        `PW=${HOSTILE}`,
        '--output',
        'json',
        '--output-file',
        result,
      ],
      { env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } },
    );
    expect([1, 3]).toContain(r.code);
    const json = readFileSync(result, 'utf8');
    const md = readFileSync(summary, 'utf8');
    // The runtime's message made it into the explanation, with the secret hidden.
    expect(json).toMatch(/\/bin\/\*\*\*/);
    for (const text of [json, md, r.stderr, r.stdout.split('\n').slice(1).join('\n')]) {
      expect(text).not.toMatch(/ZQ7|Q8/);
    }
    // The mask itself is escaped for the runner: % as %25 (so %25 stays literal).
    expect(r.stdout.split('\n')[0]).toBe('::add-mask::ZQ7"|<\\%2525Q8');

    const up = await runCli([
      'up',
      '--deps',
      manifestFile(
        [
          'apiVersion: v1',
          'kind: Pod',
          'metadata: {name: "nocmd-dep-${RUN_ID}"}',
          'spec:',
          '  terminationGracePeriodSeconds: 1',
          '  containers:',
          '    - name: main',
          '      image: busybox:local',
          '      imagePullPolicy: Never',
          '      command:',
          '        - /bin/${PW}',
        ].join('\n') + '\n',
        'deps.yaml',
      ),
      '-n',
      t.ns,
      '--set-secret',
      `PW=${HOSTILE}`,
      '--deps-timeout',
      '60s',
    ]);
    expect(up.code, up.stderr).toBe(3);
    expect(up.stderr).toContain('***');
    expect(up.stderr + up.stdout).not.toMatch(/ZQ7|Q8/);
  });

  it('refuses a --set-secret too short to hide', async () => {
    const r = await runCli([
      'run',
      '-f',
      manifestFile(leaky),
      '-n',
      t.ns,
      '--set-secret',
      'TOKEN=ab',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--set-secret TOKEN: the value has fewer than 3 characters');
    expect(r.stderr).not.toContain('TOKEN=ab');
  });

  it('speaks GitHub Actions: masks, groups, stop-commands, annotations, step summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-gha-'));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const f = manifestFile(leaky);
    const r = await runCli(['run', '-f', f, '-n', t.ns, '--set-secret', `TOKEN=${SECRET}`], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(1);
    const out = r.stdout.split('\n');
    // The mask comes before anything else; it is the only place the value appears.
    expect(out[0]).toBe(`::add-mask::${SECRET}`);
    expect(r.stdout.split(SECRET)).toHaveLength(2);
    expect(r.stderr).not.toContain(SECRET);
    // The pod's lines are inside a group, between stop-commands and the resume token.
    const group = out.findIndex((l) => /^::group::pod\/leaky-\w+\/main$/.test(l));
    expect(group).toBeGreaterThan(0);
    const stop = /^::stop-commands::(\w+)$/.exec(out[group + 1]!);
    expect(stop).not.toBeNull();
    const resume = out.indexOf(`::${stop![1]}::`);
    const injected = out.indexOf('::error::injected by the pod');
    expect(injected).toBeGreaterThan(group + 1);
    expect(resume).toBeGreaterThan(injected);
    expect(out[resume + 1]).toBe('::endgroup::');
    expect(out.slice(group + 2, resume)).toContain('token is ***');
    // One annotation for the failed Job, outside the stopped region.
    const errors = out.filter((l) => l.startsWith('::error title=job/leaky failed::'));
    expect(errors).toHaveLength(1);
    expect(out.indexOf(errors[0]!)).toBeGreaterThan(resume);
    expect(errors[0]).toContain('container main of pod/leaky-');
    expect(errors[0]).toContain('exited with code 3');
    // The step summary: a Markdown table.
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('### kubestep: FAILED: job/leaky failed');
    expect(md).toContain('| Job | Result | Duration | Attempts | Log lines | Reason |');
    // The explanation (pod and event text: untrusted) as a code span.
    expect(md).toMatch(/\| `\S+\/leaky` \| ❌ Failed \| \S+ s \| 1 \| \d+ \| ` failed 1 attempt/);
    expect(md).not.toContain(SECRET);
  });
});
