// Bundles the CLI into build/: the entry build/kubestep.mjs and, under build/chunks/, the parts
// that only some commands load (gc, wait, GKE access, Cloud Logging with google-gax and its
// protos). Runs without node_modules; start-up parses only the entry and what it imports.
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/**
 * Node builtins that are slow to import as ES modules: an `import` from `node:http` builds an ES
 * module facade of all its exports, and reading them runs its lazy getters (`WebSocket`,
 * `CloseEvent`, `MessageEvent`), which load Node's own copy of undici: 36 ms against 3.5 ms for
 * `require('node:http')` (Node 24, this machine); `node:fs` and `node:util` 4 ms against 0.1. The
 * bundle reaches them through `require` (esbuild's CommonJS interop reads a property only when
 * it is used).
 */
const builtinsThroughRequire = {
  name: 'builtins-through-require',
  setup(b) {
    const ns = 'builtin-through-require';
    b.onResolve({ filter: /^(node:)?(http|fs|util)$/ }, (args) =>
      args.namespace === ns
        ? { path: args.path, external: true }
        : { path: `node:${args.path.replace(/^node:/, '')}`, namespace: ns },
    );
    b.onLoad({ filter: /.*/, namespace: ns }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * yargs lays out the help text of the command it runs, every time, after starting its handler
 * (command.js: `cacheHelpMessage()`, kept for a handler that calls showHelp later; kubestep's do
 * not): 25-30 ms of string-width on the way to the first request. The bundle leaves that call
 * out; `--help` is unchanged. The build fails if yargs no longer has the call, so that an upgrade
 * says so instead of the patch lapsing.
 */
const yargsWithoutHelpCache = {
  name: 'yargs-without-help-cache',
  setup(b) {
    const call = 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();';
    b.onLoad({ filter: /\/node_modules\/yargs\/build\/lib\/command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const at = source.indexOf(call);
      if (at < 0 || source.indexOf(call, at + 1) >= 0)
        throw new Error(
          `${args.path}: expected one "${call}" (yargs changed: see scripts/bundle.mjs)`,
        );
      return { contents: source.replace(call, '/* kubestep: no help cache */'), loader: 'js' };
    });
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
  plugins: [
    builtinsThroughRequire,
    yargsWithoutHelpCache,
    slimUndici,
    clientNodeWithoutSideEffects,
  ],
  logLevel: 'warning',
});
