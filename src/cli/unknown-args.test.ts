import { describe, expect, it } from 'vitest';
import { unknownArgumentsMessage } from './unknown-args.js';

describe('unknownArgumentsMessage', () => {
  it.each([
    [
      'negated flag',
      'Unknown arguments: such-flag, suchFlag',
      ['run', '--no-such-flag'],
      'unknown option --no-such-flag',
    ],
    ['plain flag', 'Unknown argument: colour', ['run', '--colour', 'x'], 'unknown option --colour'],
    [
      'with value',
      'Unknown arguments: dry-run, dryRun',
      ['run', '--dry-run=true'],
      'unknown option --dry-run',
    ],
    ['short flag', 'Unknown argument: q', ['run', '-q'], 'unknown option -q'],
    [
      'two flags',
      'Unknown arguments: aa, bb',
      ['run', '--aa', '--bb'],
      'unknown options --aa, --bb',
    ],
    [
      'positional',
      'Unknown argument: tests.yaml',
      ['run', 'tests.yaml'],
      'unexpected argument tests.yaml (manifests go after -f)',
    ],
    [
      'missing -f, file given bare',
      'Missing required argument: filename',
      ['run', 'it.yaml'],
      '-f FILE is required: name the test Job manifests, e.g. kubestep run -f it.yaml',
    ],
    ['other message', 'Missing required argument: f', ['run'], 'Missing required argument: f'],
    ['not traceable', 'Unknown argument: x', ['run'], 'Unknown argument: x'],
  ])('%s', (_, msg, argv, want) => {
    expect(unknownArgumentsMessage(msg, argv)).toBe(want);
  });
});
