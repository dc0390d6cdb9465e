import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.js';
import { phaseOf, phaseProblem } from './phases.js';

const obj = (kind: string, phase?: string) =>
  ({
    apiVersion: 'v1',
    kind,
    metadata: {
      name: 'x',
      ...(phase ? { annotations: { 'kubestep.dev/deploy-phase': phase } } : {}),
    },
  }) as KubeObject;

describe('phaseOf', () => {
  it.each([
    ['ConfigMap', undefined, 'config'],
    ['Secret', undefined, 'config'],
    ['Service', undefined, 'config'],
    ['ServiceAccount', undefined, 'config'],
    ['Job', undefined, 'jobs'],
    ['Deployment', undefined, 'workloads'],
    ['StatefulSet', undefined, 'workloads'],
    ['DaemonSet', undefined, 'workloads'],
    ['Ingress', undefined, 'rest'],
    ['HorizontalPodAutoscaler', undefined, 'rest'],
    // A cache the migration needs, rolled out before it; a smoke-test Job after the workloads.
    ['Deployment', 'config', 'config'],
    ['Job', 'rest', 'rest'],
    ['ConfigMap', 'nonsense', 'config'],
  ])('%s with annotation %s: %s', (kind, phase, expected) => {
    expect(phaseOf(obj(kind, phase))).toBe(expected);
  });
});

describe('phaseProblem', () => {
  it('names a value that is not a phase, and the phases', () => {
    expect(phaseProblem(obj('Job', 'early'))).toBe(
      'annotation kubestep.dev/deploy-phase is "early": it takes config, jobs, workloads, rest',
    );
    expect(phaseProblem(obj('Job', 'jobs'))).toBeUndefined();
    expect(phaseProblem(obj('Job'))).toBeUndefined();
  });
});
