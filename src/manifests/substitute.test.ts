import { describe, expect, it } from 'vitest';
import { describeProblem, substitute } from './substitute.js';

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
    ['undefined', 'x-${NOPE}', [{ kind: 'undefined', name: 'NOPE' }]],
    ['unterminated', 'x-${RUN_ID', [{ kind: 'unterminated', at: 2 }]],
    ['bad name', '${1X}', [{ kind: 'bad-name', name: '1X' }]],
    ['empty name', '${}', [{ kind: 'bad-name', name: '' }]],
    [
      'several',
      '${A} ${B}',
      [
        { kind: 'undefined', name: 'A' },
        { kind: 'undefined', name: 'B' },
      ],
    ],
  ])('reports %s', (_, input, problems) => {
    expect(substitute(input, lookup).problems).toEqual(problems);
  });

  it('explains each problem with the next step', () => {
    expect(describeProblem({ kind: 'undefined', name: 'DB' })).toContain('--set DB=VALUE');
    expect(describeProblem({ kind: 'unterminated', at: 0 })).toContain('no closing');
    expect(describeProblem({ kind: 'bad-name', name: '1' })).toContain('not a variable name');
  });
});
