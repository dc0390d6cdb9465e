import { describe, expect, it } from 'vitest';
import type { APIResourceList } from './api.js';
import { apiPath, Discovery, resourceIn } from './discovery.js';

const APPS: APIResourceList = {
  groupVersion: 'apps/v1',
  resources: [
    { name: 'deployments', kind: 'Deployment', namespaced: true },
    { name: 'deployments/status', kind: 'Deployment', namespaced: true },
    { name: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true },
  ],
};

describe('discovery', () => {
  it.each([
    ['v1', '/api/v1'],
    ['apps/v1', '/apis/apps/v1'],
    ['stable.example.com/v1', '/apis/stable.example.com/v1'],
  ])('apiPath(%s)', (v, want) => {
    expect(apiPath(v)).toBe(want);
  });

  it('finds the resource of a kind, not a subresource', () => {
    expect(resourceIn(APPS, '/apis/apps/v1', 'Deployment')).toEqual({
      res: { api: '/apis/apps/v1', plural: 'deployments', kind: 'deployment' },
      namespaced: true,
    });
    expect(resourceIn(APPS, '/apis/apps/v1', 'ReplicaSet')).toBeUndefined();
  });

  it('asks each group version once; an unknown one is undefined', async () => {
    const asked: string[] = [];
    const d = new Discovery({
      discover: (api: string) => {
        asked.push(api);
        return Promise.resolve(api === '/apis/apps/v1' ? APPS : undefined);
      },
    });
    const signal = AbortSignal.timeout(1000);
    expect((await d.kind('apps/v1', 'Deployment', signal))?.res.plural).toBe('deployments');
    expect((await d.kind('apps/v1', 'ControllerRevision', signal))?.res.plural).toBe(
      'controllerrevisions',
    );
    expect(await d.kind('example.com/v9', 'Widget', signal)).toBeUndefined();
    expect(asked).toEqual(['/apis/apps/v1', '/apis/example.com/v9']);
  });
});
