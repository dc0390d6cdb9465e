import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.js';
import { withPortProtocols } from './defaults.js';

/** The value at a dotted path (numbers index arrays). */
const dig = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

const pod = (ports: Record<string, unknown>[]) => ({
  containers: [{ name: 'web', ports }],
  initContainers: [{ name: 'init', ports: [{ containerPort: 9 }] }],
});

describe('withPortProtocols', () => {
  it.each([
    {
      name: 'Service ports',
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] },
      },
      at: ['spec.ports'],
      want: [
        { port: 80, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    },
    {
      name: 'a Deployment template',
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: { template: { spec: pod([{ containerPort: 8080 }]) } },
      },
      at: ['spec.template.spec.containers.0.ports', 'spec.template.spec.initContainers.0.ports'],
      want: [
        { containerPort: 8080, protocol: 'TCP' },
        { containerPort: 9, protocol: 'TCP' },
      ],
    },
    {
      name: 'a CronJob',
      object: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        spec: { jobTemplate: { spec: { template: { spec: pod([{ containerPort: 1 }]) } } } },
      },
      at: ['spec.jobTemplate.spec.template.spec.containers.0.ports'],
      want: [{ containerPort: 1, protocol: 'TCP' }],
    },
    {
      name: 'a Pod',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        spec: pod([{ containerPort: 2, protocol: 'SCTP' }]),
      },
      at: ['spec.containers.0.ports'],
      want: [{ containerPort: 2, protocol: 'SCTP' }],
    },
  ])('$name', ({ object, at, want }) => {
    const before = structuredClone(object);
    const out = withPortProtocols(object);
    expect(at.flatMap((p) => dig(out, p) as unknown[])).toEqual(want);
    expect(object).toEqual(before);
  });

  it('leaves a custom resource with ports alone', () => {
    const o = {
      apiVersion: 'example.com/v1',
      kind: 'Gateway',
      spec: { ports: [{ port: 80 }] },
    } as unknown as KubeObject;
    expect(withPortProtocols(o)).toEqual(o);
  });
});
