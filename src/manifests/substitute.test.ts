import { describe, expect, it } from 'vitest';
import {
  describeProblem,
  isWithheldFromEnv,
  substitute,
  variableLookup,
  WITHHELD,
} from './substitute.js';

const vars: Record<string, string> = { RUN_ID: 'abc123', TAG: 'v1.2', EMPTY: '' };
const lookup = (n: string) => vars[n];

describe('substitute', () => {
  it.each([
    ['no variables', 'plain text', 'plain text'],
    ['one variable', 'tests-${RUN_ID}', 'tests-abc123'],
    ['two variables', '${TAG}-${RUN_ID}', 'v1.2-abc123'],
    ['empty value', 'x${EMPTY}y', 'xy'],
    ['escaped', 'echo $${HOME}', 'echo ${HOME}'],
    ['shell $VAR untouched', 'echo $HOME ${RUN_ID}', 'echo $HOME abc123'],
    ['kubernetes $(VAR) untouched', 'echo $(POD_NAME)', 'echo $(POD_NAME)'],
    ['lone dollar at end', 'cost $', 'cost $'],
    ['value with ${ is not re-expanded', '${TAG}', 'v1.2'],
  ])('%s', (_, input, expected) => {
    const r = substitute(input, lookup);
    expect(r.problems).toEqual([]);
    expect(r.text).toBe(expected);
  });

  it('does not expand ${ inside a substituted value', () => {
    const r = substitute('${A}', (n) => (n === 'A' ? '${B}' : undefined));
    expect(r).toEqual({ text: '${B}', changed: true, problems: [] });
  });

  it.each([
    ['undefined', 'x-${NOPE}', [{ kind: 'undefined', name: 'NOPE', at: 2 }]],
    ['unterminated', 'x-${RUN_ID', [{ kind: 'unterminated', at: 2 }]],
    ['bad name', '${1X}', [{ kind: 'bad-name', name: '1X', at: 0 }]],
    ['empty name', '${}', [{ kind: 'bad-name', name: '', at: 0 }]],
    [
      'several',
      '${A} ${B}',
      [
        { kind: 'undefined', name: 'A', at: 0 },
        { kind: 'undefined', name: 'B', at: 5 },
      ],
    ],
  ])('reports %s', (_, input, problems) => {
    expect(substitute(input, lookup).problems).toEqual(problems);
  });

  it('explains each problem with the next step', () => {
    expect(describeProblem({ kind: 'undefined', name: 'DB', at: 0 })).toContain('--set DB=VALUE');
    expect(describeProblem({ kind: 'unterminated', at: 0 })).toContain('no closing');
    expect(describeProblem({ kind: 'bad-name', name: '1', at: 0 })).toContain(
      'not a variable name',
    );
  });
});

describe('isWithheldFromEnv', () => {
  it.each([
    ['INPUT_KUBECONFIG', true],
    ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', true],
    ['ACTIONS_RUNTIME_TOKEN', true],
    ['GITHUB_TOKEN', true],
    ['KUBESTEP_TOKEN', true],
    ['KUBECONFIG', true],
    ['GOOGLE_APPLICATION_CREDENTIALS', true],
    ['AWS_REGION', true],
    ['AZURE_CLIENT_ID', true],
    ['DB_PASSWORD', true],
    ['api_key', true],
    ['MY_SECRET_NAME', true],
    ['TEST_IMAGE', false],
    ['BUILD_ID', false],
    ['GITHUB_SHA', false],
    ['SHORT_SHA', false],
    ['HOME', false],
  ])('%s: %s', (name, withheld) => {
    expect(isWithheldFromEnv(name)).toBe(withheld);
  });
});

describe('variableLookup', () => {
  const env = { TEST_IMAGE: 'busybox', ACTIONS_RUNTIME_TOKEN: 'tok', DB_PASSWORD: 'pw' };
  const look = (allow: string[] = [], vars: Record<string, string> = {}) =>
    variableLookup({ runId: 'r1', vars, env, allowEnv: new Set(allow) });

  it.each([
    ['RUN_ID', [], {}, 'r1'],
    ['TEST_IMAGE', [], {}, 'busybox'],
    ['ACTIONS_RUNTIME_TOKEN', [], {}, WITHHELD],
    ['ACTIONS_RUNTIME_TOKEN', ['ACTIONS_RUNTIME_TOKEN'], {}, 'tok'],
    ['DB_PASSWORD', [], { DB_PASSWORD: 'given' }, 'given'],
    ['NOT_SET', [], {}, undefined],
    ['constructor', [], {}, undefined],
  ] as const)('%s (allowed %j, set %j) → %s', (name, allow, vars, value) => {
    expect(look([...allow], vars)(name)).toBe(value);
  });

  it('reports a withheld variable with the flag that allows it', () => {
    const r = substitute('${ACTIONS_RUNTIME_TOKEN}', look());
    expect(r.problems).toEqual([{ kind: 'withheld', name: 'ACTIONS_RUNTIME_TOKEN', at: 0 }]);
    expect(describeProblem(r.problems[0]!)).toContain('--env ACTIONS_RUNTIME_TOKEN');
    expect(r.text).not.toContain('tok');
  });
});
