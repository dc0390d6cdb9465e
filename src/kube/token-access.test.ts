import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { fileTokenSource, TOKEN_FILE_REFRESH_MS, tokenKubeConfig } from './token-access.js';

describe('tokenKubeConfig', () => {
  it('has one context for the server, its CA and namespace, and no credentials', () => {
    const kc = tokenKubeConfig({
      server: 'https://10.0.0.1:443/',
      caData: 'Q0E=',
      namespace: 'ci',
    });
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://10.0.0.1:443',
      caData: 'Q0E=',
    });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('ci');
    expect(kc.getCurrentUser()?.token).toBeUndefined();
  });
  it.each([
    ['http://10.0.0.1', /is not https/],
    ['10.0.0.1', /is not a URL/],
  ])('refuses %s', (server, message) => {
    expect(() => tokenKubeConfig({ server })).toThrow(InputError);
    expect(() => tokenKubeConfig({ server })).toThrow(message);
  });
});

describe('fileTokenSource', () => {
  const file = (text: string) => {
    const path = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
    writeFileSync(path, text);
    return path;
  };
  it('reads the file again once a minute has passed, keeping the old token while it is empty', async () => {
    let now = 0;
    const path = file('one\n');
    const token = await fileTokenSource(path, () => now);
    expect(await token()).toBe('one');
    writeFileSync(path, 'two');
    now = TOKEN_FILE_REFRESH_MS - 1;
    expect(await token()).toBe('one');
    now = TOKEN_FILE_REFRESH_MS;
    expect(await token()).toBe('two');
    writeFileSync(path, '');
    now = 2 * TOKEN_FILE_REFRESH_MS;
    expect(await token()).toBe('two');
  });
  it('refuses a missing or empty file at once', async () => {
    await expect(fileTokenSource('/nonexistent/token', () => 0)).rejects.toThrow(/cannot be read/);
    await expect(fileTokenSource(file('  \n'), () => 0)).rejects.toThrow(/is empty/);
  });
});
