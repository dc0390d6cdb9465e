// The oldest Node.js kubestep runs on, checked before anything that needs a newer one is loaded.
// Pure.

/**
 * The oldest Node.js version kubestep supports: undici 8 (its HTTP client) needs 22.19.0; the
 * image and the project's pinned `node` package are Node 24. Keep package.json `engines` equal.
 */
export const MIN_NODE = '22.19.0';

const parts = (v: string) => v.split('.').map((p) => Number.parseInt(p, 10) || 0);

/**
 * What to tell someone running kubestep on Node `version` (`process.versions.node`, `20.19.2`),
 * or undefined when it is new enough: one line with the version found, the version needed and
 * how to get it.
 */
export function nodeVersionProblem(version: string): string | undefined {
  const [a = 0, b = 0, c = 0] = parts(version);
  const [x = 0, y = 0, z = 0] = parts(MIN_NODE);
  const newEnough = a !== x ? a > x : b !== y ? b > y : c >= z;
  if (newEnough) return undefined;
  return `kubestep needs Node.js ${MIN_NODE} or newer (24 recommended); this is Node.js ${version}. Run it with Node 24 (npx -y node@24 build/kubestep.mjs …, or nvm install 24), or use the image ghcr.io/kubestep/kubestep, which has it`;
}
