// Bundles the CLI into build/: the entry build/kubestep.mjs and, under build/chunks/, the parts
// that only some commands load (gc, wait, GKE access, Cloud Logging with google-gax and its
// protos). Runs without node_modules; start-up parses only the entry and what it imports.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('build', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  splitting: true,
  outdir: 'build',
  entryNames: 'kubestep',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  legalComments: 'linked',
  // CommonJS dependencies call require() and use __dirname (google-gax); give every ESM output
  // file its own, under names that no bundled module declares itself.
  banner: {
    js: [
      "import { createRequire as __ksCreateRequire } from 'node:module';",
      "import { fileURLToPath as __ksFileURLToPath } from 'node:url';",
      "import { dirname as __ksDirname } from 'node:path';",
      'const require = __ksCreateRequire(import.meta.url);',
      'const __ks_filename = __ksFileURLToPath(import.meta.url);',
      'const __ks_dirname = __ksDirname(__ks_filename);',
    ].join(' '),
  },
  define: { __dirname: '__ks_dirname', __filename: '__ks_filename' },
  logLevel: 'warning',
});
