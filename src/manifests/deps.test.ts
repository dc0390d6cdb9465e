import { templateKey } from './jobs.js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { DEPLOYMENTS, PODS, SERVICES } from '../kube/resources.js';
import type { Pod, Workload } from '../kube/types.js';
import { anchorJob, backstopSeconds, dependencyProblems, ownedBy, toDependencies } from './deps.js';
import type { ParsedDocument } from './parse.js';

const pod = (over: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'db-r1' },
  spec: { containers: [{ name: 'db', image: 'postgres:16' }] },
  ...over,
});
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db-r1' }, spec: {} };
const deployment = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } },
    ...spec,
  },
});
const doc = (object: unknown, index = 1): ParsedDocument => ({
  origin: { source: 'deps.yaml', index, line: 1 },
  object,
});
const opts = { namespace: 'ci', namespaceIsExplicit: false, runId: 'r1' };

describe('dependencyProblems', () => {
  it.each([
    ['a Pod', pod(), []],
    ['a Service', service, []],
    ['a Deployment', deployment(), []],
    ['a ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, []],
    ['a Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }, []],
    ['a StatefulSet', { ...deployment(), apiVersion: 'apps/v1', kind: 'StatefulSet' }, []],
    [
      'a Job',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' } },
      [/is a batch\/v1 Job; --deps takes .* \(test Jobs go in -f\)/],
    ],
    ['an Ingress', { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }, [/--deps takes/]],
    [
      'extensions/v1beta1 Deployment',
      { ...deployment(), apiVersion: 'extensions/v1beta1' },
      [/--deps takes/],
    ],
    ['no name', pod({ metadata: {} }), [/metadata.name is missing: name the Pod/]],
    [
      'a Service named with a digit first',
      { ...service, metadata: { name: '1db' } },
      [/must start with a letter/],
    ],
    ['a long name', pod({ metadata: { name: 'x'.repeat(64) } }), [/limit is 63/]],
    [
      'bad label',
      pod({ metadata: { name: 'db', labels: { a: 'b c' } } }),
      [/metadata.labels.a value "b c"/],
    ],
    [
      'a Pod without containers',
      pod({ spec: { containers: [] } }),
      [/a Pod needs at least one container/],
    ],
    [
      'a Deployment without a template',
      deployment({ template: undefined }),
      [/spec.template.spec is missing/],
    ],
    [
      'volumeClaimTemplates',
      { ...deployment({ volumeClaimTemplates: [{}] }), kind: 'StatefulSet' },
      [/volumeClaimTemplates is not supported/],
    ],
  ])('%s', (_, object, want) => {
    const got = dependencyProblems(object);
    expect(got).toHaveLength(want.length);
    want.forEach((re, i) => expect(got[i]).toMatch(re));
  });
});

describe('toDependencies', () => {
  it('keeps document order, labels objects and pod templates, sets the namespace', () => {
    const deps = toDependencies([doc(pod()), doc(service, 2), doc(deployment(), 3)], opts);
    expect(deps.map((d) => [d.res, d.name, d.namespace])).toEqual([
      [PODS, 'db-r1', 'ci'],
      [SERVICES, 'db-r1', 'ci'],
      [DEPLOYMENTS, 'web', 'ci'],
    ]);
    const labels = {
      'app.kubernetes.io/managed-by': 'kubestep',
      'kubestep.dev/run-id': 'r1',
      'kubestep.dev/role': 'dependency',
    };
    expect(deps[0]!.object.metadata?.labels).toEqual({
      ...labels,
      'kubestep.dev/template': templateKey('Pod', 'ci', 'db-r1'),
    });
    // The template label names the document on the object only, not on the pods it makes.
    expect((deps[2]!.object as Workload).spec?.template?.metadata?.labels).toEqual({
      app: 'web',
      ...labels,
    });
    // The selector is the user's: kubestep's labels must not change what it selects.
    expect((deps[2]!.object as Workload).spec?.selector).toEqual({ matchLabels: { app: 'web' } });
  });

  it('gives Pods the backstop activeDeadlineSeconds, keeping a smaller one', () => {
    const [a, b] = toDependencies(
      [
        doc(pod()),
        doc(
          pod({ metadata: { name: 'b' }, spec: { activeDeadlineSeconds: 10, containers: [{}] } }),
          2,
        ),
      ],
      { ...opts, podDeadlineSeconds: 3700 },
    );
    expect((a!.object as Pod).spec?.activeDeadlineSeconds).toBe(3700);
    expect((b!.object as Pod).spec?.activeDeadlineSeconds).toBe(10);
    expect(
      (toDependencies([doc(pod())], opts)[0]!.object as Pod).spec?.activeDeadlineSeconds,
    ).toBeUndefined();
  });

  it('reports every problem with file and document, and duplicates', () => {
    expect(() =>
      toDependencies([doc(pod()), doc(pod(), 2), doc({ kind: 'Job' }, 3)], opts),
    ).toThrow(InputError);
    try {
      toDependencies([doc(pod()), doc(pod(), 2), doc({ kind: 'Job' }, 3)], opts);
    } catch (err) {
      expect((err as Error).message.split('\n')).toEqual([
        'deps.yaml: document 2 (line 1): pod "ci/db-r1" is also defined in deps.yaml: document 1 (line 1): give each pod its own name',
        expect.stringMatching(/^deps.yaml: document 3 \(line 1\): is a Job; --deps takes/),
      ]);
    }
  });

  it('does not change the parsed documents', () => {
    const p = pod();
    toDependencies([doc(p)], { ...opts, podDeadlineSeconds: 5 });
    expect(p).toEqual(pod());
  });
});

describe('anchor', () => {
  it('is a Job that completes without pods and expires after the lifetime', () => {
    const a = anchorJob('r1', 'ci', 3725.2, {
      untilMs: Date.UTC(2026, 10, 23, 12),
      leaseSeconds: 120,
    });
    expect(a.metadata?.name).toBe('kubestep-run-r1');
    expect(a.metadata?.annotations).toMatchObject({
      'kubestep.dev/alive-until': '2026-11-23T12:00:00.000Z',
      'kubestep.dev/lease-seconds': '120',
    });
    expect(a.metadata?.labels?.['kubestep.dev/role']).toBe('anchor');
    expect(a.spec).toMatchObject({ completions: 0, parallelism: 0, ttlSecondsAfterFinished: 3726 });
  });

  it('owns the objects of the run', () => {
    const anchor = {
      ...anchorJob('r1', 'ci', 60, { untilMs: 0, leaseSeconds: 60 }),
      metadata: { name: 'kubestep-run-r1', uid: 'U' },
    };
    expect(ownedBy(pod() as Pod, anchor).metadata?.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name: 'kubestep-run-r1', uid: 'U' },
    ]);
  });

  it('outlives everything a run may legitimately take', () => {
    expect(backstopSeconds({ depsTimeoutMs: 300_000, timeoutMs: 3_600_000, graceMs: 30_000 })).toBe(
      300 + 3600 + 60 + 60,
    );
  });
});
