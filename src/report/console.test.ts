// The console adapter on in-memory streams, with an injected clock.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConsoleOutput } from './console.js';
import type { OutputMode } from './ci.js';
import { redactor } from './secrets.js';

function consoleFor(mode: OutputMode, secrets: string[] = []) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const clock = { ms: 1_000_000 };
  const c = createConsoleOutput({
    stdout,
    stderr,
    mode,
    color: mode === 'terminal',
    prefix: true,
    verbose: false,
    redact: redactor(secrets),
    masks: secrets,
    now: () => clock.ms,
  });
  return { c, clock, out: () => out, err: () => err };
}

const src = (pod: string) => ({ namespace: 'ns', pod, container: 'main' });

describe('console output', () => {
  it('terminal: redraws the status line at most once a second and clears it before output', async () => {
    const { c, clock, err } = consoleFor('terminal');
    c.status('one');
    clock.ms += 500;
    c.status('two'); // too soon: not drawn
    clock.ms += 600;
    c.status('three');
    await c.logs.write(src('p'), ['line']);
    expect(err()).not.toContain('two');
    expect(err().split('\r\u001b[2K')).toHaveLength(4); // two draws, one clear
    expect(err()).toContain('kubestep: three');
    expect(err()).toContain('\u001b[2m'); // dim: colours are on
  });

  it('CI: a progress line only after 30 s without output', () => {
    const { c, clock, err } = consoleFor('plain');
    c.status('waiting a');
    expect(err()).toBe('');
    clock.ms += 30_000;
    c.status('waiting b');
    expect(err()).toBe('kubestep: still waiting, waiting b\n');
    clock.ms += 10_000;
    c.status('waiting c');
    expect(err()).not.toContain('waiting c');
    expect(err()).not.toContain('\u001b');
  });

  it('GitHub: masks first, one group per source with stop-commands, annotations outside', async () => {
    const { c, out, err } = consoleFor('github', ['top-secret-1']);
    await c.logs.write(src('a'), ['::warning::from a', 'the top-secret-1']);
    await c.logs.write(src('a'), ['more']);
    await c.logs.write(src('b'), ['from b']);
    c.info('note');
    c.error('job/x failed', 'container main exited with code 2');
    c.close();
    const lines = out().split('\n');
    const token = /::stop-commands::(\w+)/.exec(out())![1]!;
    expect(lines).toEqual([
      '::add-mask::top-secret-1',
      '::group::pod/a/main',
      `::stop-commands::${token}`,
      '[pod/a/main] ::warning::from a',
      '[pod/a/main] the ***',
      '[pod/a/main] more',
      `::${token}::`,
      '::endgroup::',
      '::group::pod/b/main',
      `::stop-commands::${token}`,
      '[pod/b/main] from b',
      `::${token}::`,
      '::endgroup::',
      '::error title=job/x failed::job/x failed: container main exited with code 2',
      '',
    ]);
    expect(err()).toBe('kubestep: note\n');
  });
});
