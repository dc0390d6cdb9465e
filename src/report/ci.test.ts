import { describe, expect, it } from 'vitest';
import { defuseWorkflowCommand, escapeData, visibleControls } from './ci.js';

describe('visibleControls', () => {
  it.each([
    ['plain text', 'all 3 passed', 'all 3 passed'],
    ['newline and tab stay', 'a\tb\nc', 'a\tb\nc'],
    [
      'a lone CR cannot start a line',
      'FATAL\r::add-mask::kubestep',
      'FATAL\\r::add-mask::kubestep',
    ],
    ['ANSI colours', '\u001b[31mred\u001b[0m', '^[[31mred^[[0m'],
    ['clear screen', '\u001b[2J\u001b[H', '^[[2J^[[H'],
    ['OSC 52 (set the clipboard)', '\u001b]52;c;ZXZpbA==\u0007', '^[]52;c;ZXZpbA==^G'],
    ['NUL, backspace and DEL', 'a\u0000b\u0008c\u007f', 'a^@b^Hc^?'],
    ['C1 CSI', 'x\u009b2Jy', 'x\\x9b2Jy'],
    ['non-ASCII text stays', 'Grüße ✓ 日本', 'Grüße ✓ 日本'],
  ])('%s', (_name, input, output) => {
    expect(visibleControls(input)).toBe(output);
  });
});

describe('escapeData', () => {
  it('escapes % CR LF as @actions/core does', () => {
    expect(escapeData('50%\r\nx')).toBe('50%25%0D%0Ax');
  });
});

describe('defuseWorkflowCommand', () => {
  it.each([
    ['::set-env name=X::y', '\u200b::set-env name=X::y'],
    ['   ::add-mask::x', '\u200b   ::add-mask::x'],
    ['##[error]old style', '\u200b##[error]old style'],
    ['ok :: not a command at the start', 'ok :: not a command at the start'],
    ['3 passed, 0 failed', '3 passed, 0 failed'],
  ])('%j', (line, out) => {
    expect(defuseWorkflowCommand(line)).toBe(out);
  });
});
