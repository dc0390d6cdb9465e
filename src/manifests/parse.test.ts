import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { describeOrigin, parseManifests, readManifests } from './parse.js';

const env: Record<string, string> = {
  RUN_ID: 'r1',
  RETRIES: '2',
  TAG: '1.0',
  INJECT: 'x\nkind: Pod',
};
const lookup = (n: string) => env[n];
const parse = (text: string) => parseManifests([{ name: 'm.yaml', text }], lookup);

describe('parseManifests', () => {
  it('reads every document and skips empty ones', () => {
    const docs = parse('a: 1\n---\n---\n# only a comment\n---\nb: 2\n');
    expect(docs.map((d) => d.object)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(docs.map((d) => d.origin.index)).toEqual([1, 4]);
    expect(docs[1]!.origin.line).toBe(5);
  });

  it.each<[string, unknown]>([
    ['0700', 448],
    ['0400', 256],
    ['-0755', -493],
    ['0o700', 448],
    ['0x1F', 31],
    ['"0700"', '0700'],
    ["'0644'", '0644'],
    ['700', 700],
    ['0', 0],
    ['08', 8],
  ])('reads %s as kubectl does', (text, value) => {
    expect(parse(`defaultMode: ${text}`)[0]!.object).toEqual({ defaultMode: value });
  });

  it('reads a substituted number as kubectl does', () => {
    env.MODE = '0600';
    expect(parse('defaultMode: ${MODE}')[0]!.object).toEqual({ defaultMode: 384 });
  });

  it.each([
    ['plain name', 'name: tests-${RUN_ID}', { name: 'tests-r1' }],
    ['plain number', 'backoffLimit: ${RETRIES}', { backoffLimit: 2 }],
    ['quoted stays a string', 'value: "${RETRIES}"', { value: '2' }],
    ['colon in value stays a string', 'image: repo:${TAG}', { image: 'repo:1.0' }],
    ['value cannot add structure', 'name: "${INJECT}"', { name: 'x\nkind: Pod' }],
    ['comment is ignored', '# ${UNDEFINED}\na: 1', { a: 1 }],
    ['escaped variable in a key', 'cmd-$${X}: 1', { 'cmd-${X}': 1 }],
    ['escape', 'cmd: echo $${HOME}', { cmd: 'echo ${HOME}' }],
    [
      'block scalar',
      'script: |\n  echo ${RUN_ID}\n  echo $HOME\n',
      { script: 'echo r1\necho $HOME\n' },
    ],
  ])('substitutes: %s', (_, text, expected) => {
    expect(parse(text)[0]!.object).toEqual(expected);
  });

  it.each([
    ['broken YAML', 'a: [1, 2\n', /m\.yaml: document 1 \(line 1\): YAML error/],
    [
      'undefined variable',
      'a: 1\n---\nname: ${NOPE}\n',
      /m\.yaml: document 2, line 3: variable \$\{NOPE\} is not defined/,
    ],
    ['unterminated', 'name: x-${RUN_ID\n', /no closing "}"/],
    ['tab indentation', 'a:\n\tb: 1\n', /YAML error/],
    // A key decides which field is set: no variables there (issue 19).
    [
      'a variable in a key',
      'metadata:\n  ${K}: evil\n',
      /m\.yaml: document 1, line 2: \$\{…\} in the mapping key "\$\{K\}": kubestep substitutes values only/,
    ],
    [
      'an unquoted variable in a flow mapping',
      'metadata:\n  labels: {app: web-${RUN_ID}}\n',
      /YAML error at line 2: .*\(a \$\{…\} inside \[\.\.\.\] or \{\.\.\.\} must be quoted: "web-\$\{RUN_ID\}"/,
    ],
  ])('rejects %s', (_, text, message) => {
    expect(() => parse(text)).toThrow(InputError);
    expect(() => parse(text)).toThrow(message);
  });

  it('reports every undefined variable at once', () => {
    expect(() => parse('a: ${X}\nb: ${Y}\n')).toThrow(/X.*\n.*Y/s);
  });

  it('refuses alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10)
          .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
          .join(', ')}]`,
      );
    expect(() => parse(bomb.join('\n'))).toThrow(InputError);
    expect(() => parse(bomb.join('\n'))).toThrow(
      /^m\.yaml: document 1 \(line 1\): YAML aliases expand too far/,
    );
  });

  it('a quoted variable in a flow mapping is fine', () => {
    expect(parse('labels: {app: "web-${RUN_ID}"}')[0]!.object).toEqual({
      labels: { app: 'web-r1' },
    });
  });
});

describe('readManifests', () => {
  const read = (text: string) => readManifests([{ name: 'm.yaml', text }], lookup);

  it('gives the items of a kind: List as documents, each with its line', () => {
    const { docs, problems } = read(`apiVersion: v1
kind: List
items:
  - kind: Job
    metadata: {name: a}
  - kind: Job
    metadata:
      name: "b-\${RUN_ID}"
`);
    expect(problems).toEqual([]);
    expect(docs.map((d) => [d.origin.item, d.origin.line, d.nameTemplate])).toEqual([
      [1, 4, 'a'],
      [2, 6, 'b-${RUN_ID}'],
    ]);
    expect(describeOrigin(docs[1]!.origin)).toBe('m.yaml: document 1, item 2 (line 6)');
    expect(docs[1]!.object).toEqual({ kind: 'Job', metadata: { name: 'b-r1' } });
  });

  it('names each undefined variable once, with every line, the lines inside a block scalar too', () => {
    const { docs, problems } = read(`kind: Job
metadata: {name: "t-\${NOPE}"}
spec:
  script: |
    echo start
    echo \${NOPE}
    echo \${ALSO_NOPE} \${NOPE}
`);
    expect(problems).toEqual([
      'm.yaml: document 1, lines 2, 6, 7: variable ${NOPE} is not defined: pass --set NOPE=VALUE or set it in the environment',
      'm.yaml: document 1, line 7: variable ${ALSO_NOPE} is not defined: pass --set ALSO_NOPE=VALUE or set it in the environment',
    ]);
    // The document is kept with a stand-in, so that its other problems can be found.
    expect(docs[0]!.object).toMatchObject({ metadata: { name: 't-x' } });
  });
});
