import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.js';
import { changeOf, imagesOf, rollbackObject } from './rollback.js';

const workload = (image: string, replicas = 1, extra: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'prod' },
    spec: {
      replicas,
      strategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image, ...extra }] },
      },
    },
  }) as KubeObject;

describe('changeOf', () => {
  it.each([
    { name: 'new object', before: undefined, after: workload('web:2'), kind: 'created' },
    {
      name: 'same template',
      before: workload('web:1'),
      after: workload('web:1'),
      kind: 'unchanged',
    },
    {
      name: 'replicas only',
      before: workload('web:1', 1),
      after: workload('web:1', 5),
      kind: 'unchanged',
    },
    { name: 'new image', before: workload('web:1'), after: workload('web:2'), kind: 'changed' },
    {
      name: 'new env',
      before: workload('web:1'),
      after: workload('web:1', 1, { env: [{ name: 'A', value: 'b' }] }),
      kind: 'changed',
    },
  ])('$name: $kind', ({ before, after, kind }) => {
    expect(changeOf(before, after).kind).toBe(kind);
  });
});

describe('rollbackObject', () => {
  it('is the manifest with the previous template, other fields as the manifest has them', () => {
    const manifest = workload('web:2', 3);
    const before = workload('web:1', 1, { imagePullPolicy: 'IfNotPresent' });
    const r = rollbackObject(manifest, before) as KubeObject & {
      spec: { replicas: number; template: unknown; strategy: unknown };
    };
    expect(r.spec.replicas).toBe(3);
    expect(r.spec.strategy).toEqual({ type: 'RollingUpdate' });
    expect(r.spec.template).toEqual(
      (before as unknown as { spec: { template: unknown } }).spec.template,
    );
    expect(r.metadata).toEqual(manifest.metadata);
    // The manifest itself is not changed.
    expect(imagesOf(manifest)).toBe('app=web:2');
  });
});

describe('imagesOf', () => {
  it('names init containers and containers', () => {
    const o = {
      kind: 'StatefulSet',
      spec: {
        template: {
          spec: {
            initContainers: [{ name: 'migrate', image: 'web:2' }],
            containers: [
              { name: 'app', image: 'web:2' },
              { name: 'proxy', image: 'envoy:1' },
            ],
          },
        },
      },
    } as unknown as KubeObject;
    expect(imagesOf(o)).toBe('migrate=web:2, app=web:2, proxy=envoy:1');
  });
});
