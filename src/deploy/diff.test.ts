import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.js';
import { diffObjects } from './diff.js';

const deployment = (image: string, replicas: number, env: Record<string, string> = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'staging',
      resourceVersion: String(100 + replicas),
      generation: replicas,
      uid: 'u-1',
      managedFields: [{ manager: 'kubestep' }],
    },
    spec: {
      replicas,
      template: {
        spec: {
          containers: [
            {
              name: 'app',
              image,
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
            },
          ],
        },
      },
    },
    status: { readyReplicas: replicas },
  }) as KubeObject;

const secret = (data: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data }) as KubeObject;

describe('diffObjects', () => {
  it('shows a changed image and replica count, not server metadata or status', () => {
    const d = diffObjects('deployment/web', deployment('web:1', 1), deployment('web:2', 3));
    expect(d.action).toBe('update');
    expect(d.diff).toContain('--- live/deployment/web');
    expect(d.diff).toContain('+++ applied/deployment/web');
    expect(d.diff).toMatch(/^-\s+image: web:1$/m);
    expect(d.diff).toMatch(/^\+\s+image: web:2$/m);
    expect(d.diff).toMatch(/^-\s+replicas: 1$/m);
    expect(d.diff).toMatch(/^\+\s+replicas: 3$/m);
    expect(d.diff).not.toMatch(/resourceVersion|managedFields|readyReplicas|generation|uid/);
  });

  it('gives no diff when only server metadata and status differ', () => {
    const a = deployment('web:1', 1);
    const b = { ...deployment('web:1', 1), status: { readyReplicas: 0 } } as KubeObject;
    b.metadata!.resourceVersion = '999';
    expect(diffObjects('deployment/web', a, b)).toEqual({
      label: 'deployment/web',
      action: 'update',
    });
  });

  it('shows a new object whole, as created', () => {
    const d = diffObjects('deployment/web', undefined, deployment('web:1', 1));
    expect(d.action).toBe('create');
    expect(d.diff).toMatch(/^\+\s+image: web:1$/m);
    expect(d.diff).not.toMatch(/^-[^-]/m);
  });

  it.each([
    {
      name: 'a changed Secret value is masked as before/after',
      live: secret({ password: 'b2xk', user: 'YWRt' }),
      next: secret({ password: 'bmV3', user: 'YWRt' }),
      shows: [/^-\s+password: "\*\*\* \(before\)"$/m, /^\+\s+password: "\*\*\* \(after\)"$/m],
      hides: ['b2xk', 'bmV3', 'YWRt'],
    },
    {
      name: 'a changed env value is masked, an unchanged one too',
      live: deployment('web:1', 1, { TOKEN: 'old-token', MODE: 'fast' }),
      next: deployment('web:1', 1, { TOKEN: 'new-token', MODE: 'fast' }),
      shows: [/^-\s+value: "\*\*\* \(before\)"$/m, /^\+\s+value: "\*\*\* \(after\)"$/m],
      hides: ['old-token', 'new-token', 'fast'],
    },
    {
      name: 'an added Secret key shows as added, masked',
      live: secret({ a: 'YQ==' }),
      next: secret({ a: 'YQ==', b: 'Yg==' }),
      shows: [/^\+\s+b: "\*\*\* \(after\)"$/m],
      hides: ['YQ==', 'Yg=='],
    },
  ])('$name', ({ live, next, shows, hides }) => {
    const d = diffObjects('x', live, next);
    for (const re of shows) expect(d.diff).toMatch(re);
    for (const s of hides) expect(d.diff).not.toContain(s);
  });

  it('shows a Job to be replaced by its template, not by what the Job controller generated', () => {
    const job = (command: string, uid?: string) =>
      ({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: 'migrate',
          ...(uid ? { labels: { 'controller-uid': uid, 'job-name': 'migrate' } } : {}),
        },
        spec: {
          ...(uid ? { selector: { matchLabels: { 'controller-uid': uid } } } : {}),
          template: {
            metadata: uid ? { labels: { 'controller-uid': uid, 'job-name': 'migrate' } } : {},
            spec: { containers: [{ name: 'm', command: ['sh', '-c', command] }] },
          },
        },
        status: { succeeded: 1 },
      }) as KubeObject;
    const d = diffObjects('job/migrate', job('migrate v1', 'u-1'), job('migrate v2', 'u-2'));
    expect(d.diff).toMatch(/^-\s+- migrate v1$/m);
    expect(d.diff).toMatch(/^\+\s+- migrate v2$/m);
    expect(d.diff).not.toMatch(/controller-uid|job-name|selector|u-1|u-2/);
  });

  it('does not change its inputs', () => {
    const live = secret({ password: 'b2xk' });
    diffObjects('x', live, secret({ password: 'bmV3' }));
    expect((live as { data?: unknown }).data).toEqual({ password: 'b2xk' });
  });
});
