import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { jobProblems, LABEL_RUN_ID, LABEL_TEMPLATE, templateKey, toTestJobs } from './jobs.js';
import { parseManifests } from './parse.js';
import type { ParsedDocument } from './parse.js';

const job = (over: Record<string, unknown> = {}, podOver: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'tests' },
  spec: {
    template: {
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'main', image: 'busybox:local' }],
        ...podOver,
      },
    },
  },
  ...over,
});
const doc = (object: unknown, index = 1): ParsedDocument => ({
  origin: { source: 't.yaml', index, line: 1 },
  object,
});
const opts = { namespace: 'ci', namespaceIsExplicit: false, runId: 'r1' };

describe('jobProblems: a refused kind says what takes it', () => {
  it.each<[unknown, RegExp]>([
    [
      { apiVersion: 'batch/v1', kind: 'CronJob' },
      /is a batch\/v1 CronJob; -f takes batch\/v1 Jobs only \(a CronJob runs on a schedule, not as one step: run its jobTemplate as a Job/,
    ],
    [
      { apiVersion: 'v1', kind: 'List' },
      /is a v1 List; -f takes batch\/v1 Jobs only \(a List takes apiVersion v1 and an items array\)/,
    ],
    [{ apiVersion: 'v1', kind: 'Service' }, /\(--deps takes Pods, Services, Deployments/],
    [
      { apiVersion: 'extensions/v1beta1', kind: 'Job' },
      /\(apiVersion extensions\/v1beta1 is not served for Jobs: use batch\/v1\)/,
    ],
    [{ apiVersion: 'v1', kind: 'Namespace' }, /is a v1 Namespace; -f takes batch\/v1 Jobs only$/],
  ])('%o', (object, message) => {
    expect(jobProblems(object)).toEqual([expect.stringMatching(message)]);
  });
});

describe('jobProblems', () => {
  it.each([
    ['a valid Job', job(), []],
    ['OnFailure', job({}, { restartPolicy: 'OnFailure' }), []],
    ['a Pod', { apiVersion: 'v1', kind: 'Pod' }, [/is a v1 Pod; -f takes batch\/v1 Jobs only/]],
    ['batch/v1beta1', job({ apiVersion: 'batch/v1beta1' }), [/batch\/v1 Jobs only/]],
    ['a list', [1, 2], [/not a YAML mapping/]],
    ['no name', job({ metadata: {} }), [/metadata.name is missing/]],
    [
      'long name',
      job({ metadata: { name: 'x'.repeat(64) } }),
      [/64 characters long; the limit is 63/],
    ],
    ['upper-case name', job({ metadata: { name: 'Tests' } }), [/lower case/]],
    ['no containers', job({}, { containers: [] }), [/containers is empty/]],
    ['no image', job({}, { containers: [{ name: 'main' }] }), [/containers\[0\] has no image/]],
    [
      'Always',
      job({}, { restartPolicy: 'Always' }),
      [/restartPolicy is "Always"; a Job needs Never or OnFailure/],
    ],
    ['restartPolicy unset', job({}, { restartPolicy: undefined }), [/is not set/]],
    ['no template', job({ spec: {} }), [/spec.template.spec is missing/]],
    [
      'bad label value',
      job({ metadata: { name: 't', labels: { a: 'b c' } } }),
      [/labels.a value "b c"/],
    ],
    [
      'number label',
      job({ metadata: { name: 't', labels: { a: 1 } } }),
      [/not a string: quote it/],
    ],
  ])('%s', (_, object, expected) => {
    const problems = jobProblems(object);
    expect(problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(problems[i]).toMatch(re));
  });
});

describe('toTestJobs', () => {
  it('labels the Job and its pod template and sets the namespace', () => {
    const [t] = toTestJobs([doc(job())], opts);
    expect(t!.namespace).toBe('ci');
    expect(t!.job.metadata!.namespace).toBe('ci');
    expect(t!.job.metadata!.labels![LABEL_RUN_ID]).toBe('r1');
    expect(t!.job.spec!.template!.metadata!.labels).toEqual({
      'app.kubernetes.io/managed-by': 'kubestep',
      'kubestep.dev/role': 'test',
      [LABEL_RUN_ID]: 'r1',
    });
  });

  it('labels the Job with its document: the same in every run, differing per name template', () => {
    const text =
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: "tests-${RUN_ID}"}\nspec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: i}]}}}\n';
    const render = (runId: string, name = text) =>
      toTestJobs(
        parseManifests([{ name: 't.yaml', text: name }], (v) =>
          v === 'RUN_ID' ? runId : undefined,
        ),
        { ...opts, runId },
      )[0]!.job.metadata!.labels![LABEL_TEMPLATE];
    expect(render('r1')).toBe(templateKey('Job', 'ci', 'tests-${RUN_ID}'));
    expect(render('r2')).toBe(render('r1'));
    expect(render('r1', text.replace('tests-', 'lint-'))).not.toBe(render('r1'));
    expect(templateKey('Job', 'other', 'tests-${RUN_ID}')).not.toBe(render('r1'));
    expect(render('r1')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps user labels and does not change its input', () => {
    const input = job({ metadata: { name: 't', labels: { team: 'a' } } });
    const [t] = toTestJobs([doc(input)], opts);
    expect(t!.job.metadata!.labels!.team).toBe('a');
    expect(input.metadata).toEqual({ name: 't', labels: { team: 'a' } });
  });

  it('uses the namespace of the document unless --namespace says otherwise', () => {
    const d = doc(job({ metadata: { name: 't', namespace: 'other' } }));
    expect(toTestJobs([d], opts)[0]!.namespace).toBe('other');
    expect(() => toTestJobs([d], { ...opts, namespaceIsExplicit: true })).toThrow(
      /--namespace is "ci"/,
    );
  });

  it('rejects duplicate names, naming both documents', () => {
    expect(() => toTestJobs([doc(job(), 1), doc(job(), 2)], opts)).toThrow(
      /t\.yaml: document 2 \(line 1\): Job "ci\/tests" is also defined in t\.yaml: document 1/,
    );
  });

  it('rejects no documents and lists every problem', () => {
    expect(() => toTestJobs([], opts)).toThrow(InputError);
    expect(() =>
      toTestJobs([doc({ kind: 'Pod' }, 1), doc(job({ metadata: {} }), 2)], opts),
    ).toThrow(/document 1.*\n.*document 2/);
  });
});

describe('toTestJobs: shapes users write', () => {
  const explicit = { ...opts, namespaceIsExplicit: true };
  it('reports a missing name and a wrong namespace together', () => {
    expect(() => toTestJobs([doc(job({ metadata: { namespace: 'prod' } }))], explicit)).toThrow(
      /metadata.name is missing.*\n.*metadata.namespace is "prod" but --namespace is "ci"/,
    );
  });

  it('names a Job with generateName: the same for the same run, another for the next run', () => {
    const gen = job({ metadata: { generateName: 'migrate-' } });
    const [a] = toTestJobs([doc(gen)], opts);
    const [again] = toTestJobs([doc(gen)], opts);
    const [next] = toTestJobs([doc(gen)], { ...opts, runId: 'r2' });
    expect(a!.name).toMatch(/^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(again!.name).toBe(a!.name);
    expect(next!.name).not.toBe(a!.name);
    expect(a!.job.metadata).not.toHaveProperty('generateName');
    // Runs of the same document share the template label (the sweep finds them).
    expect(a!.job.metadata?.labels?.[LABEL_TEMPLATE]).toBe(
      next!.job.metadata?.labels?.[LABEL_TEMPLATE],
    );
    expect(a!.job.metadata?.labels?.[LABEL_TEMPLATE]).toBe(templateKey('Job', 'ci', 'migrate-'));
  });

  it('runs a bare Pod with restartPolicy Never as a Job around it (backoffLimit 0)', () => {
    const helmTest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-test-connection',
        labels: { app: 'web' },
        annotations: { 'helm.sh/hook': 'test' },
      },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'wget', image: 'busybox:local', command: ['wget', 'web:80'] }],
      },
    };
    const [t] = toTestJobs([doc(helmTest)], opts);
    expect(t!.name).toBe('web-test-connection');
    expect(t!.job).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'web-test-connection', annotations: { 'helm.sh/hook': 'test' } },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'web', [LABEL_RUN_ID]: 'r1' } },
          spec: helmTest.spec,
        },
      },
    });
  });

  it('refuses a bare Pod that keeps running, saying where it goes', () => {
    const server = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'db' },
      spec: { containers: [] },
    };
    expect(() => toTestJobs([doc(server)], opts)).toThrow(
      /is a v1 Pod; -f takes batch\/v1 Jobs only \(a Pod runs as a test with spec.restartPolicy Never or OnFailure; one that keeps running is a dependency: --deps\)/,
    );
  });
});

describe('toTestJobs: duplicates', () => {
  it('are Jobs of the same name, not other kinds of that name', () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' } };
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } };
    expect(() => toTestJobs([doc(rs, 1), doc(svc, 2)], opts)).toThrow(InputError);
    try {
      toTestJobs([doc(rs, 1), doc(svc, 2)], opts);
    } catch (err) {
      expect((err as Error).message).not.toContain('also defined');
    }
  });
});
