#!/usr/bin/env node
// `npm audit` over every dependency (the shipped ones are bundled devDependencies, so
// `--omit=dev` would check nothing): fails on a high or critical advisory; says so and passes
// when the registry does not answer audit requests (a read-only mirror answers 405).
// Used by .ci/run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// AUDIT_JSON=FILE reads a saved `npm audit --json` answer instead (test/supply-chain.test.ts).
const r = process.env.AUDIT_JSON
  ? { stdout: readFileSync(process.env.AUDIT_JSON, 'utf8'), status: 0 }
  : spawnSync('npm', ['audit', '--json', '--audit-level=high'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
process.exitCode = audit(r);

/** Reads npm audit's JSON answer; returns the exit code. */
function audit(r) {
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    console.log(`npm audit: no answer to read (exit ${r.status}): skipped`);
    return 0;
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const why = report.message ?? report.error?.summary ?? 'no vulnerability counts';
    console.log(`npm audit: the registry did not answer the audit request (${why}): skipped`);
    return 0;
  }
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  const summary = Object.entries(counts)
    .filter(([k, n]) => k !== 'total' && n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  console.log(
    `npm audit: ${summary || 'no advisories'} (${report.metadata.dependencies?.total ?? '?'} dependencies)`,
  );
  if (serious > 0) {
    for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
      if (v.severity === 'high' || v.severity === 'critical')
        console.log(`  ${v.severity}: ${name} ${v.range ?? ''}`);
    }
    console.log('npm audit: high or critical advisories: update the dependencies (npm audit fix)');
    return 1;
  }
  return 0;
}
