import { describe, expect, it } from 'vitest';
import { droppedFields, droppedHint } from './dropped.js';

// A Job as written for Kubernetes 1.28+ (from the Job documentation), and as a v1.20 API server
// answers a dry-run create of it: the fields it does not know are gone, defaults are added.
const written = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'job-pod-failure-policy-example', labels: { 'app.kubernetes.io/name': 'x' } },
  spec: {
    completions: 12,
    parallelism: 3,
    completionMode: 'Indexed',
    backoffLimitPerIndex: 1,
    suspend: true,
    successPolicy: { rules: [{ succeededIndexes: '0,2-3', succeededCount: 1 }] },
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      ],
    },
    template: {
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }],
        containers: [
          {
            name: 'main',
            image: 'docker.io/library/bash:5',
            command: ['bash'],
            env: [],
            resources: {},
          },
        ],
      },
    },
  },
};
const stored120 = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    name: 'job-pod-failure-policy-example',
    namespace: 'ci',
    uid: 'u',
    labels: { 'app.kubernetes.io/name': 'x', 'controller-uid': 'u' },
  },
  spec: {
    completions: 12,
    parallelism: 3,
    backoffLimit: 6,
    template: {
      metadata: { labels: { 'controller-uid': 'u' } },
      spec: {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'proxy', image: 'envoy', terminationMessagePath: '/dev/termination-log' },
        ],
        containers: [
          {
            name: 'main',
            image: 'docker.io/library/bash:5',
            command: ['bash'],
            imagePullPolicy: 'IfNotPresent',
          },
        ],
      },
    },
  },
};

describe('droppedFields', () => {
  it('names the fields a v1.20 API server drops from a 1.28+ Job', () => {
    expect(droppedFields(written, stored120)).toEqual([
      'spec.completionMode',
      'spec.backoffLimitPerIndex',
      'spec.suspend',
      'spec.successPolicy',
      'spec.podFailurePolicy',
      'spec.template.spec.initContainers[0].restartPolicy',
    ]);
  });

  it('reports nothing when the server keeps every field (and adds its own)', () => {
    expect(
      droppedFields(written, { ...stored120, spec: { ...written.spec, backoffLimit: 6 } }),
    ).toEqual([]);
  });

  it.each([
    ['zero values', { spec: { suspend: false, x: 0, y: '', z: null, a: [], b: {} } }, { spec: {} }],
    [
      'server-owned metadata',
      { metadata: { name: 'n', creationTimestamp: null, uid: 'mine' } },
      { metadata: { name: 'n' } },
    ],
    ['values the server rewrites', { spec: { cpu: '1000m' } }, { spec: { cpu: '1' } }],
  ])('ignores %s', (_, w, s) => {
    expect(droppedFields(w, s)).toEqual([]);
  });

  it("ignores a Secret's write-only stringData, which the server merges into data", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { password: 'x', 'tls.key': 'y' },
    };
    expect(
      droppedFields(secret, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { password: 'eA==', 'tls.key': 'eQ==' },
      }),
    ).toEqual([]);
    // A key that did not arrive in data is still named.
    expect(
      droppedFields(secret, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { password: 'eA==' },
      }),
    ).toEqual(['stringData["tls.key"]']);
    // stringData of another kind is compared like any field.
    expect(
      droppedFields({ kind: 'ConfigMap', stringData: { a: 'b' } }, { kind: 'ConfigMap' }),
    ).toEqual(['stringData']);
  });

  it('quotes keys with dots', () => {
    expect(
      droppedFields(
        { metadata: { annotations: { 'a.b/c': 'x' } } },
        { metadata: { annotations: {} } },
      ),
    ).toEqual(['metadata.annotations["a.b/c"]']);
  });
});

describe('droppedHint', () => {
  it.each([
    [
      ['spec.template.spec.initContainers[1].restartPolicy'],
      /native sidecars need Kubernetes 1.28/,
    ],
    [['spec.podFailurePolicy'], undefined],
    [[], undefined],
  ])('%j', (paths, want) => {
    const hint = droppedHint(paths);
    if (want) expect(hint).toMatch(want);
    else expect(hint).toBeUndefined();
  });
});
