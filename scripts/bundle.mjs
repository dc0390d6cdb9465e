// Bundles the CLI into build/: the entry build/kubestep.mjs and, under build/chunks/, the parts
// that only some commands load (gc, wait, GKE access, Cloud Logging with google-gax and its
// protos). Runs without node_modules; start-up parses only the entry and what it imports.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * @kubernetes/client-node's index re-exports every generated API and model (~600 KB), but its
 * package.json does not say that its modules are free of side effects, so esbuild keeps them all.
 * They are (plain classes and re-exports): marking them so lets esbuild drop what kubestep does not
 * use (KubeConfig and RequestContext are all it imports), ~10 MB less memory per run.
 */
const clientNodeWithoutSideEffects = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.inner) return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { inner: true },
      });
      if (r.errors.length > 0 || !r.path.includes('/@kubernetes/client-node/dist/'))
        return undefined;
      return { ...r, sideEffects: false };
    });
  },
};

/**
 * kubestep's client and client-node's KubeConfig use undici's Agent and ProxyAgent only: their
 * `undici` is scripts/undici-slim.cjs, without fetch, WebSocket, cache and mock modules (~45 ms
 * and ~12 MB less per run). Other importers (Cloud Logging's) get the whole package.
 */
const slimUndici = {
  name: 'slim-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.includes('/@kubernetes/client-node/') ||
      args.importer.endsWith('/src/kube/client.ts')
        ? { path: new URL('./undici-slim.cjs', import.meta.url).pathname }
        : undefined,
    );
  },
};

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
  plugins: [slimUndici, clientNodeWithoutSideEffects],
  logLevel: 'warning',
});
