import { describe, expect, it } from 'vitest';
import type { ContainerStatus, Pod } from '../kube/types.js';
import {
  mainsEnded,
  namesOf,
  nativeSidecarsOf,
  sidecarsOf,
  SIDECARS_ANNOTATION,
} from './sidecars.js';

const exited = (exitCode: number): ContainerStatus['state'] => ({
  terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' },
});
const running: ContainerStatus['state'] = { running: { startedAt: '2026-11-29T10:00:00Z' } };

/** A pod of a Job with regular containers `states` (name → state). */
function pod(
  states: Record<string, ContainerStatus['state'] | undefined>,
  opts: {
    phase?: string;
    restartPolicy?: string;
    annotations?: Record<string, string>;
    deleting?: boolean;
  } = {},
): Pod {
  return {
    metadata: {
      name: 'p',
      annotations: opts.annotations,
      ...(opts.deleting ? { deletionTimestamp: '2026-11-29T10:01:00Z' } : {}),
    },
    spec: {
      restartPolicy: opts.restartPolicy ?? 'Never',
      containers: Object.keys(states).map((name) => ({ name, image: 'x' })),
    },
    status: {
      phase: opts.phase ?? 'Running',
      containerStatuses: Object.entries(states)
        .filter(([, s]) => s !== undefined)
        .map(([name, state]) => ({ name, ready: false, restartCount: 0, image: 'x', state })),
    },
  };
}

describe('sidecarsOf', () => {
  const p = (annotations?: Record<string, string>) =>
    pod(
      { tests: running, logshipper: running, 'istio-proxy': running, other: running },
      { annotations },
    );
  it.each([
    ['a known proxy by name alone', [], undefined, undefined, ['istio-proxy']],
    ['--sidecar', ['logshipper'], undefined, undefined, ['logshipper', 'istio-proxy']],
    [
      'the pod annotation',
      [],
      { [SIDECARS_ANNOTATION]: 'logshipper, other' },
      undefined,
      ['logshipper', 'istio-proxy', 'other'],
    ],
    [
      'the Job annotation',
      [],
      undefined,
      { [SIDECARS_ANNOTATION]: 'other' },
      ['istio-proxy', 'other'],
    ],
    ['a name the pod does not have', ['nope'], undefined, undefined, ['istio-proxy']],
  ])('%s', (_what, named, podAnn, jobAnn, want) => {
    expect([...sidecarsOf(p(podAnn), named, jobAnn)].sort()).toEqual([...want].sort());
  });

  it('reads names separated by commas or white space', () => {
    expect(namesOf(' a,b  c ,')).toEqual(['a', 'b', 'c']);
    expect(namesOf(undefined)).toEqual([]);
  });
});

describe('mainsEnded', () => {
  const sc = new Set(['proxy']);
  it.each([
    [
      'main exited 0, sidecar runs',
      pod({ main: exited(0), proxy: running }),
      { succeeded: true, running: ['proxy'] },
    ],
    [
      'main exited 2, sidecar runs',
      pod({ main: exited(2), proxy: running }),
      { succeeded: false, running: ['proxy'] },
    ],
    ['two mains, one still runs', pod({ a: exited(0), b: running, proxy: running }), undefined],
    [
      'two mains, one failed',
      pod({ a: exited(0), b: exited(1), proxy: running }),
      { succeeded: false, running: ['proxy'] },
    ],
    [
      'the sidecar has ended too (the pod ends by itself)',
      pod({ main: exited(0), proxy: exited(0) }),
      undefined,
    ],
    ['main not started yet', pod({ main: undefined, proxy: running }), undefined],
    [
      'OnFailure: a failed main is restarted by the kubelet',
      pod({ main: exited(1), proxy: running }, { restartPolicy: 'OnFailure' }),
      undefined,
    ],
    [
      'OnFailure: a main that succeeded has ended',
      pod({ main: exited(0), proxy: running }, { restartPolicy: 'OnFailure' }),
      { succeeded: true, running: ['proxy'] },
    ],
    ['the pod ended', pod({ main: exited(0), proxy: exited(137) }, { phase: 'Failed' }), undefined],
    [
      'the pod is being deleted',
      pod({ main: exited(0), proxy: running }, { deleting: true }),
      undefined,
    ],
    ['no main container', pod({ proxy: running }), undefined],
    [
      'a sidecar that never ran (runAsNonRoot): the stuck rules decide',
      pod({ main: exited(0), proxy: { waiting: { reason: 'CreateContainerConfigError' } } }),
      undefined,
    ],
  ])('%s', (_what, p, want) => {
    expect(mainsEnded(p, sc)).toEqual(want);
  });

  it('needs sidecars', () => {
    expect(mainsEnded(pod({ main: exited(0), proxy: running }), new Set())).toBeUndefined();
  });
});

describe('nativeSidecarsOf', () => {
  it('names the init containers with restartPolicy Always (the docs example job-sidecar.yaml)', () => {
    // https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#jobs-with-sidecar-containers
    const p: Pod = {
      spec: {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'setup', image: 'alpine:latest' },
          {
            name: 'logshipper',
            image: 'alpine:latest',
            restartPolicy: 'Always',
            command: ['sh', '-c', 'tail -F /opt/logs.txt'],
          },
        ],
        containers: [
          {
            name: 'myjob',
            image: 'alpine:latest',
            command: ['sh', '-c', 'echo "logging" > /opt/logs.txt'],
          },
        ],
      },
    };
    expect([...nativeSidecarsOf(p)]).toEqual(['logshipper']);
  });
});
