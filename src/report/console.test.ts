// The console adapter on in-memory streams, with an injected clock.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createConsoleOutput } from './console.js';
import type { OutputMode } from './ci.js';
import { redactor } from './secrets.js';

function consoleFor(
  mode: OutputMode,
  secrets: string[] = [],
  extra: { neutralise?: boolean; prefix?: boolean } = {},
) {
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
    prefix: extra.prefix ?? true,
    neutralise: extra.neutralise ?? false,
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

  it('GitHub: a failed test case is an annotation at its file and line; elsewhere nothing', () => {
    const gh = consoleFor('github', []);
    gh.c.testFailure({
      title: 'api › test_status',
      message: 'assert 500 == 200\nE  500',
      file: 'tests/test_api.py',
      line: 7,
    });
    gh.c.testFailure({ title: 'store › TestGet', message: 'panic' });
    expect(gh.out().split('\n')).toEqual([
      '::error file=tests/test_api.py,line=7,title=api › test_status::assert 500 == 200%0AE  500',
      '::error title=store › TestGet::panic',
      '',
    ]);
    const plain = consoleFor('plain', []);
    plain.c.testFailure({ title: 'api › t', message: 'm' });
    expect(plain.out() + plain.err()).toBe('');
  });

  it('GitHub: a message, an event text or an annotation cannot issue a workflow command', () => {
    const { c, out, err } = consoleFor('github', ['pa%25ss\rword-1']);
    c.info('events of pod/db:\n    Warning  Unhealthy  probe: FATAL\r::add-mask::kubestep');
    c.error('job/x failed', 'exit 1\r::error title=PASSED::all good\u001b[2J');
    // The mask is escaped: the runner reads it whole, CR and %25 included.
    expect(out().split('\n')[0]).toBe('::add-mask::pa%2525ss%0Dword-1');
    // Read as the runner reads lines (split on CR and LF): no line but kubestep's starts with ::.
    const commands = (out() + err()).split(/\r|\n/).filter((l) => l.startsWith('::'));
    expect(commands).toEqual([
      '::add-mask::pa%2525ss%0Dword-1',
      '::error title=job/x failed::job/x failed: exit 1\\r::error title=PASSED::all good^[[2J',
    ]);
    expect(err()).toContain('probe: FATAL\\r::add-mask::kubestep');
  });

  it('terminal: a pod cannot move the cursor or clear the screen; plain CI output keeps colours', async () => {
    const term = consoleFor('terminal');
    await term.c.logs.write(src('p'), ['\u001b[2J\u001b[Hfake PASSED', 'ok']);
    expect(term.out()).toBe('[pod/p/main] ^[[2J^[[Hfake PASSED\n[pod/p/main] ok\n');
    const plain = consoleFor('plain');
    await plain.c.logs.write(src('p'), ['\u001b[32mgreen\u001b[0m']);
    expect(plain.out()).toBe('[pod/p/main] \u001b[32mgreen\u001b[0m\n');
  });

  it('plain CI output outside GitHub mode: bare pod lines cannot be workflow commands', async () => {
    const { c, out } = consoleFor('plain', [], { neutralise: true, prefix: false });
    await c.logs.write(src('p'), ['::set-env name=PATH::/evil', 'ok']);
    expect(out()).toBe('\u200b::set-env name=PATH::/evil\nok\n');
    const raw = consoleFor('plain', [], { neutralise: false, prefix: false });
    await raw.c.logs.write(src('p'), ['::notice::as is']);
    expect(raw.out()).toBe('::notice::as is\n');
  });
});
