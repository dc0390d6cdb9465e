// The layer rule (ARCHITECTURE.md, "Layers"): a folder of src/ imports only folders below it in
// LAYERS, never one above, so there can be no cycle between folders. `npm run check` runs it.
/** src/ folders from the bottom up. */
const LAYERS = [
  'core',
  'kube',
  'manifests',
  'objects',
  'pods',
  'logs',
  'artifacts',
  'jobs',
  'deps',
  'deploy',
  'gc',
  'run',
  'gcp',
  'report',
  'cli',
];

const above = (i) => LAYERS.slice(i + 1);

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer}`,
      comment: `src/${layer}/ is below ${above(i).join(', ')}: it must not import them (ARCHITECTURE.md, Layers)`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: `^src/(${above(i).join('|')})/` },
    })),
    {
      name: 'layer-main',
      comment: 'src/main.ts is the top: nothing imports it',
      severity: 'error',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'no-unknown-folder',
      comment: 'every folder of src/ has its place in LAYERS (.dependency-cruiser.mjs)',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/|^src/main\\.ts$` },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'modules import each other in a cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-test',
      comment: 'src/ does not import the cluster tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
