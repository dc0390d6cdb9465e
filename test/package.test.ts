// The npm package: what `npm pack` puts in it, and that the packed CLI installs and runs with no
// dependencies (the bundle has them).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MIN_NODE } from '../src/core/node-version.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies?: Record<string, string>;
};
// npm from the same Node as the tests (node_modules/node), offline: nothing is downloaded.
const npm = (args: string[], cwd = ROOT) =>
  run('npm', [...args, '--offline', '--no-audit', '--no-fund'], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_ignore_scripts: 'true' },
  });

describe('npm package', () => {
  it('holds the bundle, README, LICENSE and CHANGELOG, and nothing else', async () => {
    const { stdout } = await npm(['pack', '--dry-run', '--json']);
    const [packed] = JSON.parse(stdout) as { files: { path: string }[]; unpackedSize: number }[];
    const files = packed!.files.map((f) => f.path).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'CHANGELOG.md',
        'LICENSE',
        'README.md',
        'package.json',
        pkg.bin.kubestep!,
      ]),
    );
    const other = files.filter(
      (f) => !['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json'].includes(f),
    );
    expect(
      other.every((f) => /^build\/.*\.(mjs|LEGAL\.txt)$/.test(f)),
      other.join(' '),
    ).toBe(true);
    expect(files.some((f) => f.startsWith('build/chunks/'))).toBe(true);
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.engines.node).toBe(`>=${MIN_NODE}`);
    console.log(
      `npm package: ${files.length} files, ${(packed!.unpackedSize / 1e6).toFixed(1)} MB unpacked`,
    );
  });

  it('installs from the tarball without a registry and prints its version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-pack-'));
    const { stdout } = await npm(['pack', '--pack-destination', dir, '--json']);
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    const prefix = join(dir, 'prefix');
    await npm(['install', '-g', '--prefix', prefix, join(dir, filename)], dir);
    const bin = join(prefix, 'bin', 'kubestep');
    expect(readlinkSync(bin)).toBe(`../lib/node_modules/kubestep/${pkg.bin.kubestep}`);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const version = await run(process.execPath, [bin, '--version'], { cwd: dir });
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
