import { describe, expect, it } from 'vitest';
import { DEPLOYMENTS, SECRETS, SERVICES } from '../kube/resources.js';
import { describeCheck, isOptionalRight, requiredAccess } from './access.js';
import { classifyRefusal } from './preflight.js';

describe('requiredAccess', () => {
  const list = (plan: Parameters<typeof requiredAccess>[0]) =>
    requiredAccess(plan).map((c) => `${c.namespace}: ${describeCheck(c)}`);

  it('test Jobs only: Jobs, pods, logs, events', () => {
    expect(list({ testNamespaces: ['ci'], dependencies: [] })).toEqual([
      'ci: create jobs.batch',
      'ci: get jobs.batch',
      'ci: list jobs.batch',
      'ci: watch jobs.batch',
      'ci: delete jobs.batch',
      'ci: patch jobs.batch',
      'ci: list pods',
      'ci: watch pods',
      'ci: get pods/log',
      'ci: list events',
    ]);
  });

  it('dependencies add their own kinds, and watching for workloads and Services', () => {
    const checks = list({
      testNamespaces: ['ci'],
      dependencies: [
        { res: DEPLOYMENTS, namespace: 'ci' },
        { res: SERVICES, namespace: 'ci' },
        { res: SECRETS, namespace: 'db' },
      ],
    });
    expect(checks).toEqual(
      expect.arrayContaining([
        'ci: create deployments.apps',
        'ci: watch deployments.apps',
        'ci: create services',
        'ci: watch endpoints',
        'db: create secrets',
        'db: create jobs.batch',
        'db: get pods/log',
      ]),
    );
    expect(checks).not.toContain('db: watch endpoints');
    expect(new Set(checks).size).toBe(checks.length);
  });
});

describe('optional rights', () => {
  it('keeping objects adds patch on each dependency kind; Secrets and those patches are optional', () => {
    const plan = {
      testNamespaces: ['ci'],
      dependencies: [
        { res: SERVICES, namespace: 'ci' },
        { res: SECRETS, namespace: 'ci' },
      ],
    };
    const without = requiredAccess(plan).map(describeCheck);
    const withKeep = requiredAccess({ ...plan, keep: true });
    expect(withKeep.map(describeCheck).filter((c) => !without.includes(c))).toEqual([
      'patch services',
      'patch secrets',
    ]);
    expect(withKeep.filter(isOptionalRight).map(describeCheck)).toEqual([
      'patch services',
      'create secrets',
      'get secrets',
      'list secrets',
      'delete secrets',
      'patch secrets',
    ]);
  });
});

describe('classifyRefusal', () => {
  it.each<[string, number, string, string | undefined]>([
    [
      'schema',
      422,
      'Job.batch "x" is invalid: spec.template.spec.containers: Required value',
      'invalid',
    ],
    ['bad request', 400, 'Job in version "v1" cannot be handled as a Job', 'invalid'],
    [
      'quota',
      403,
      'jobs.batch "x" is forbidden: exceeded quota: q, requested: count/jobs.batch=1',
      'quota',
    ],
    [
      'limit range',
      403,
      'pods "x" is forbidden: failed quota: q: must specify limits.memory',
      'quota',
    ],
    [
      'webhook',
      400,
      'admission webhook "policy.example.com" denied the request: no latest tags',
      'admission',
    ],
    [
      'pod security',
      403,
      'pods "x" is forbidden: violates PodSecurity "restricted:latest"',
      'admission',
    ],
    ['rbac', 403, 'jobs.batch is forbidden: User "u" cannot create resource "jobs"', 'forbidden'],
    ['no namespace', 404, 'namespaces "nope" not found', 'invalid'],
    ['too large', 413, 'Request entity too large: limit is 3145728', 'invalid'],
    ['server error', 500, 'etcdserver: request timed out', undefined],
  ])('%s', (_, code, message, kind) => {
    expect(classifyRefusal({ code, message })?.kind).toBe(kind);
  });
});
