// Bundles the CLI into one ESM file (build/kubestep.mjs) that runs without node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  outfile: 'build/kubestep.mjs',
  sourcemap: 'linked',
  legalComments: 'linked',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __kubestepCreateRequire } from 'node:module'; const require = __kubestepCreateRequire(import.meta.url);",
  },
  // Loaded lazily (--cloud-logging) from node_modules: it reads its protos from files next to it.
  external: ['@google-cloud/logging'],
  logLevel: 'warning',
});
