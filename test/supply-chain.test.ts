// The supply chain as the repository states it: base images by digest, workflow actions by
// commit SHA, a release that pins the action's image by digest, npm publishing with provenance
// and without a stored token, SBOMs. Reads the files; the release step's rewrite of action.yml
// is run on a copy.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const release = read('.github/workflows/release.yml');

describe('supply chain', () => {
  it.each(['Dockerfile', 'images/postgres/Dockerfile', 'images/db-tests/Dockerfile'])(
    '%s: every base image is pinned by digest',
    (file) => {
      const froms = read(file)
        .split('\n')
        .filter((l) => l.startsWith('FROM '));
      expect(froms.length).toBeGreaterThan(0);
      for (const f of froms) expect(f).toMatch(/^FROM \S+@sha256:[0-9a-f]{64}( AS \w+)?$/);
    },
  );

  it('the release workflow pins every action by commit SHA', () => {
    const uses = [...release.matchAll(/^\s+(?:- )?uses: (\S+)/gm)].map((m) => m[1]!);
    expect(uses.length).toBeGreaterThanOrEqual(6);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it('npm publishes with provenance through OIDC, with no stored token', () => {
    expect(release).toContain('npm publish --provenance');
    expect(release).toContain('id-token: write');
    expect(release).not.toMatch(/NPM_TOKEN|NODE_AUTH_TOKEN/);
  });

  it('SBOMs: BuildKit attestations on the image, CycloneDX of the npm package on the release', () => {
    expect(release).toMatch(/provenance: mode=max\n\s+sbom: true/);
    expect(release).toContain('npm sbom --sbom-format cyclonedx');
    expect(release).toContain('gh release upload');
  });

  it("the release step pins action.yml's image by digest", () => {
    const step = /run: \|\n((?:\s{10}.*\n)+?)\s{10}git config/.exec(release);
    const sed = /sed -i -E "([^"]+)" action\.yml/.exec(step?.[1] ?? '');
    expect(sed, 'the sed line of the action job').not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-release-'));
    copyFileSync(join(ROOT, 'action.yml'), join(dir, 'action.yml'));
    const digest = `sha256:${'ab'.repeat(32)}`;
    const expr = sed![1]!.replaceAll('${VERSION}', '1.2.3').replaceAll('${DIGEST}', digest);
    execFileSync('sed', ['-i', '-E', expr, join(dir, 'action.yml')]);
    const action = readFileSync(join(dir, 'action.yml'), 'utf8');
    expect(action).toContain(`  image: docker://ghcr.io/kubestep/kubestep:1.2.3@${digest}\n`);
    expect(action.split('\n').filter((l) => l.startsWith('  image: '))).toHaveLength(1);
  });

  it('.ci/run audits all dependencies', () => {
    expect(read('.ci/run')).toContain('npm run --silent audit');
    expect(read('scripts/audit.mjs')).toContain("'--audit-level=high'");
  });

  it.each<[string, unknown, number, RegExp]>([
    [
      'a high advisory fails',
      {
        vulnerabilities: { undici: { severity: 'high', range: '<7.2.3' } },
        metadata: {
          vulnerabilities: { low: 1, high: 1, critical: 0, total: 2 },
          dependencies: { total: 390 },
        },
      },
      1,
      /npm audit: 1 low, 1 high \(390 dependencies\)\n {2}high: undici <7\.2\.3\n/,
    ],
    [
      'moderate ones pass',
      { metadata: { vulnerabilities: { moderate: 2, high: 0, total: 2 } } },
      0,
      /npm audit: 2 moderate/,
    ],
    [
      'a registry that does not answer is skipped',
      {
        message:
          '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      },
      0,
      /did not answer the audit request \(405 Method Not Allowed/,
    ],
  ])('npm run audit: %s', (_, answer, code, output) => {
    const dir = mkdtempSync(join(tmpdir(), 'kubestep-audit-'));
    writeFileSync(join(dir, 'audit.json'), JSON.stringify(answer));
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/audit.mjs')], {
      env: { ...process.env, AUDIT_JSON: join(dir, 'audit.json') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(code);
    expect(r.stdout).toMatch(output);
  });
});
