import { describe, expect, it } from 'vitest';
import { featuresUsed, lackedFeatures, minorVersion } from './features.js';

// Literal objects after the Kubernetes documentation's examples.
const indexedWithPolicy = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'job-pod-failure-policy-example' },
  spec: {
    completions: 12,
    parallelism: 3,
    completionMode: 'Indexed',
    backoffLimitPerIndex: 1,
    maxFailedIndexes: 5,
    podFailurePolicy: {
      rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }],
    },
    template: {
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'logshipper', image: 'alpine', restartPolicy: 'Always' }],
        containers: [{ name: 'main', image: 'docker.io/library/bash:5' }],
      },
    },
  },
};

describe('featuresUsed', () => {
  it('finds every feature of a Job from the docs, where it is used', () => {
    expect(featuresUsed(indexedWithPolicy)).toEqual([
      { feature: 'Pod failure policy', since: '1.26', at: 'spec.podFailurePolicy' },
      { feature: 'backoff limit per index', since: '1.29', at: 'spec.backoffLimitPerIndex' },
      { feature: 'backoff limit per index', since: '1.29', at: 'spec.maxFailedIndexes' },
      { feature: 'Indexed Jobs', since: '1.22', at: 'spec.completionMode' },
      {
        feature: 'native sidecars',
        since: '1.29',
        at: 'spec.template.spec.initContainers[0].restartPolicy',
      },
    ]);
  });

  it.each([
    ['a plain Job', { kind: 'Job', spec: { template: { spec: { containers: [] } } } }, []],
    ['a Service', { kind: 'Service', spec: { ports: [] } }, []],
    [
      'a Pod with a native sidecar',
      { kind: 'Pod', spec: { initContainers: [{ name: 's', restartPolicy: 'Always' }] } },
      ['native sidecars'],
    ],
    ['not an object', 'text', []],
  ])('%s', (_name, object, features) => {
    expect(featuresUsed(object).map((f) => f.feature)).toEqual(features);
  });
});

describe('lackedFeatures', () => {
  const used = featuresUsed(indexedWithPolicy);
  it.each([
    [
      20,
      [
        'Pod failure policy',
        'backoff limit per index',
        'backoff limit per index',
        'Indexed Jobs',
        'native sidecars',
      ],
    ],
    [26, ['backoff limit per index', 'backoff limit per index', 'native sidecars']],
    [29, []],
  ])('1.%i lacks %j', (minor, lacked) => {
    expect(lackedFeatures(used, minor).map((f) => f.feature)).toEqual(lacked);
  });

  it('reads GET /version minors, with a provider +', () => {
    expect(minorVersion('1', '20')).toBe(20);
    expect(minorVersion('1', '27+')).toBe(27);
    expect(minorVersion('', '')).toBeUndefined();
  });
});
