import { describe, expect, it } from 'vitest';
import { MIN_NODE, nodeVersionProblem } from './node-version.js';
import pkg from '../../package.json' with { type: 'json' };

describe('nodeVersionProblem', () => {
  it.each([
    ['20.19.2', false],
    ['18.20.0', false],
    ['22.18.9', false],
    ['22.19.0', true],
    ['22.20.1', true],
    ['24.0.0', true],
    ['25.1.0', true],
  ])('Node %s: supported %s', (version, ok) => {
    const problem = nodeVersionProblem(version);
    expect(problem === undefined).toBe(ok);
    if (problem) {
      expect(problem).toContain(`this is Node.js ${version}`);
      expect(problem).toContain(`needs Node.js ${MIN_NODE} or newer`);
      expect(problem).toContain('npx -y node@24');
    }
  });

  it('agrees with package.json engines', () => {
    expect(pkg.engines.node).toBe(`>=${MIN_NODE}`);
  });
});
