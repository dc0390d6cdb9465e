// The bundle on a Node.js older than kubestep supports (the machine's own Node, not the project's
// pinned one): one clear line and exit 2, before anything that needs a newer Node is loaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { MIN_NODE, nodeVersionProblem } from '../src/core/node-version.js';
import { CLI } from './harness.js';

/** A `node` on PATH older than kubestep supports, with its version. */
function oldNode(): { path: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const path = join(dir, 'node');
    if (!dir || !existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().slice(1);
    if (nodeVersionProblem(version)) return { path, version };
  }
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().slice(1);
    if (nodeVersionProblem(version)) return { path, version };
  }
  return undefined;
}

it("on the machine's Node older than supported: one line naming both versions and the way out, exit 2", () => {
  const node = oldNode();
  // CI machines have Debian's Node 20 (README: Running the tests); elsewhere there may be none.
  if (!node && !process.env.CI) return void console.log('no Node older than supported here');
  expect(node, 'no node older than supported on this machine').toBeDefined();
  const r = spawnSync(node!.path, [CLI, 'run', '-f', 'examples/hello-job.yaml'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
  });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    `kubestep: error: kubestep needs Node.js ${MIN_NODE} or newer (24 recommended); this is Node.js ${node!.version}. Run it with Node 24 (npx -y node@24 build/kubestep.mjs …, or nvm install 24), or use the image ghcr.io/kubestep/kubestep, which has it\n`,
  );
  // --version too: nothing of kubestep runs on it.
  const v = spawnSync(node!.path, [CLI, '--version'], { encoding: 'utf8' });
  expect(v.status).toBe(2);
});
