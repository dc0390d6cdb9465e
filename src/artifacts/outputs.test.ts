import { describe, expect, it } from 'vitest';
import { parseOutputs } from './outputs.js';

describe('parseOutputs', () => {
  it('reads NAME=VALUE and multi-line values; a later value wins', () => {
    expect(
      parseOutputs(
        'IMAGE=gcr.io/p/app:1\nNOTES<<EOF\nline 1\nline 2\nEOF\n\nIMAGE=gcr.io/p/app:2\nEMPTY=\n',
      ),
    ).toEqual({
      values: { IMAGE: 'gcr.io/p/app:2', NOTES: 'line 1\nline 2', EMPTY: '' },
      problems: [],
    });
  });

  it.each([
    ['just text', 'line 1: not NAME=VALUE or NAME<<DELIMITER'],
    ['bad name!=x', 'line 1: "bad name!" is not an output name (letters, digits, _ and -)'],
    ['A<<END\nnever closed', 'line 1: A<<END has no closing END'],
  ])('names the problem of %j', (text, problem) => {
    expect(parseOutputs(text).problems).toEqual([problem]);
  });

  it('keeps values with = and CRLF line endings', () => {
    expect(parseOutputs('URL=http://x/?a=b\r\nB=2\r\n').values).toEqual({
      URL: 'http://x/?a=b',
      B: '2',
    });
  });
});
