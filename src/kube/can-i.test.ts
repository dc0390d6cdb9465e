import { describe, expect, it } from 'vitest';
import { allowedBy, type ResourceRule } from './can-i.js';

// Rules as a SelfSubjectRulesReview answers them for deploy/rbac.yaml, and a few of RBAC's forms.
const rules: ResourceRule[] = [
  {
    verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'],
    apiGroups: ['batch'],
    resources: ['jobs'],
  },
  { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] },
  { verbs: ['list'], apiGroups: [''], resources: ['events'] },
  { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['only-this-one'] },
  { verbs: ['*'], apiGroups: ['example.com'], resources: ['*'] },
  { verbs: ['get'], apiGroups: ['*'], resources: ['*/status'] },
  {
    verbs: ['create'],
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  },
];
const ask = (verb: string, group: string, resource: string, subresource?: string) => ({
  namespace: 'ci',
  verb,
  group,
  resource,
  ...(subresource ? { subresource } : {}),
});

describe('allowedBy', () => {
  it.each([
    ['create jobs.batch', ask('create', 'batch', 'jobs'), true],
    ['create jobs in the core group (another group)', ask('create', '', 'jobs'), false],
    ['get pods/log', ask('get', '', 'pods', 'log'), true],
    ['get pods (the subresource rule does not grant the resource)', ask('get', '', 'pods'), false],
    ['list events', ask('list', '', 'events'), true],
    ['watch events (verb not listed)', ask('watch', '', 'events'), false],
    ['get secrets (a rule for one name only)', ask('get', '', 'secrets'), false],
    ['anything of example.com (stars)', ask('delete', 'example.com', 'widgets'), true],
    ['get deployments/status (*/status)', ask('get', 'apps', 'deployments', 'status'), true],
    ['get deployments (not a status)', ask('get', 'apps', 'deployments'), false],
  ])('%s: %s', (_name, attrs, allowed) => {
    expect(allowedBy(rules, attrs)).toBe(allowed);
  });

  it('allows nothing without rules', () => {
    expect(allowedBy([], ask('get', '', 'pods'))).toBe(false);
  });
});
