import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { gkeClusterRef } from './gke-ref.js';

describe('gkeClusterRef', () => {
  it.each([
    [
      'flag with locations',
      'projects/p1/locations/europe-west1/clusters/ci',
      {},
      { project: 'p1', location: 'europe-west1', cluster: 'ci' },
    ],
    [
      'flag with zones (older form)',
      'projects/p1/zones/europe-west1-b/clusters/ci',
      {},
      { project: 'p1', location: 'europe-west1-b', cluster: 'ci' },
    ],
    [
      'flag wins over the variables',
      'projects/p1/locations/l/clusters/c',
      { CLOUDSDK_CONTAINER_CLUSTER: 'other', CLOUDSDK_COMPUTE_ZONE: 'z' },
      { project: 'p1', location: 'l', cluster: 'c' },
    ],
    [
      'kubectl builder variables, region',
      undefined,
      {
        CLOUDSDK_CONTAINER_CLUSTER: 'ci',
        CLOUDSDK_COMPUTE_REGION: 'r',
        CLOUDSDK_CORE_PROJECT: 'p',
      },
      { project: 'p', location: 'r', cluster: 'ci' },
    ],
    [
      'kubectl builder variables, zone, no project',
      undefined,
      { CLOUDSDK_CONTAINER_CLUSTER: 'ci', CLOUDSDK_COMPUTE_ZONE: 'z' },
      { project: undefined, location: 'z', cluster: 'ci' },
    ],
    ['nothing', undefined, {}, undefined],
  ])('%s', (_name, flag, env, expected) => {
    expect(gkeClusterRef(flag, env)).toEqual(expected);
  });

  it.each([
    ['projects/p/clusters/c', {}, /is not projects\/PROJECT\/locations\/LOCATION\/clusters\/NAME/],
    ['ci', {}, /is not projects/],
    [
      undefined,
      { CLOUDSDK_CONTAINER_CLUSTER: 'ci' },
      /needs its location: set CLOUDSDK_COMPUTE_REGION/,
    ],
  ])('refuses %s', (flag, env, message) => {
    expect(() => gkeClusterRef(flag, env)).toThrow(InputError);
    expect(() => gkeClusterRef(flag, env)).toThrow(message);
  });
});
