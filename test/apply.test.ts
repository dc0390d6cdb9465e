// Server-side apply and discovery against the real API server (issue 22's building blocks):
// kubestep's field manager, conflicts with another manager named, --force-conflicts taking them,
// dry-run storing nothing, and kinds found by discovery.
import { expect, it } from 'vitest';
import { KubeApiError } from '../src/kube/errors.js';
import { Discovery } from '../src/kube/discovery.js';
import { CONFIGMAPS } from '../src/kube/resources.js';
import type { KubeObject } from '../src/kube/types.js';
import { useTestNamespace } from './harness.js';

const t = useTestNamespace('apply');
const signal = () => AbortSignal.timeout(30_000);

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  metadata?: KubeObject['metadata'] & {
    managedFields?: { manager?: string; operation?: string }[];
  };
}

const cm = (data: Record<string, string>): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings' },
  data,
});

it('applies as field manager kubestep, again without change, and names a conflict with another manager', async () => {
  const { client, ns } = t;
  const first = await client.apply<ConfigMap>(
    CONFIGMAPS,
    ns,
    'settings',
    cm({ mode: 'a' }),
    { manager: 'kubestep' },
    signal(),
  );
  expect(first.data).toEqual({ mode: 'a' });
  expect(first.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
    ['kubestep', 'Apply'],
  ]);
  const again = await client.apply<ConfigMap>(
    CONFIGMAPS,
    ns,
    'settings',
    cm({ mode: 'a' }),
    { manager: 'kubestep' },
    signal(),
  );
  expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
  // Another manager takes the field; kubestep's apply of another value conflicts.
  await client.apply(
    CONFIGMAPS,
    ns,
    'settings',
    cm({ mode: 'b' }),
    { manager: 'helm', force: true },
    signal(),
  );
  const conflict = await client
    .apply(CONFIGMAPS, ns, 'settings', cm({ mode: 'c' }), { manager: 'kubestep' }, signal())
    .catch((e: unknown) => e);
  expect(conflict).toBeInstanceOf(KubeApiError);
  expect((conflict as KubeApiError).code).toBe(409);
  expect((conflict as KubeApiError).message).toMatch(/conflict with "helm".*\.data\.mode/);
  // A dry run answers the object as it would be and stores nothing; force takes the field.
  const dry = await client.apply<ConfigMap>(
    CONFIGMAPS,
    ns,
    'settings',
    cm({ mode: 'c' }),
    { manager: 'kubestep', force: true, dryRun: true },
    signal(),
  );
  expect(dry.data).toEqual({ mode: 'c' });
  expect((await client.get<ConfigMap>(CONFIGMAPS, ns, 'settings', signal()))?.data).toEqual({
    mode: 'b',
  });
  const forced = await client.apply<ConfigMap>(
    CONFIGMAPS,
    ns,
    'settings',
    cm({ mode: 'c' }),
    { manager: 'kubestep', force: true },
    signal(),
  );
  expect(forced.data).toEqual({ mode: 'c' });
});

it('discovery finds the kinds the server serves, and not those it does not', async () => {
  const d = new Discovery(t.client);
  expect(await d.kind('apps/v1', 'Deployment', signal())).toEqual({
    res: { api: '/apis/apps/v1', plural: 'deployments', kind: 'deployment' },
    namespaced: true,
  });
  expect((await d.kind('v1', 'Namespace', signal()))?.namespaced).toBe(false);
  expect(await d.kind('batch/v1', 'CronJob', signal())).toBeUndefined(); // 1.20: batch/v1beta1 only
  expect(await d.kind('example.com/v1', 'Widget', signal())).toBeUndefined();
});
