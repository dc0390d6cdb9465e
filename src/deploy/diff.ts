// `deploy --diff`: what applying would change, object by object, as a unified diff of YAML (the
// `diff` package), with Secret data and env values masked. Pure.
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { KubeObject } from '../kube/types.js';

/** One object's difference: `diff` is a unified diff, undefined when nothing would change. */
export interface ObjectDiff {
  /** `deployment/web in namespace staging`. */
  label: string;
  /** `create` (not in the cluster yet), `update`. */
  action: 'create' | 'update';
  diff?: string | undefined;
}

/** Fields the API server sets that are not the object's content (as `kubectl diff` hides). */
const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
];

/**
 * The difference between `live` (the object in the cluster, or undefined) and `wouldBe` (the
 * server-side dry run of the apply): a unified diff of both as YAML without server metadata and
 * `status` (and, for a Job, without what the Job controller generates). Secret `data`/`stringData` values and container `env[].value`s are masked as
 * `***`, or `*** (before)` / `*** (after)` where they differ, so a diff says that a value
 * changes without printing it (as `kubectl diff` does for Secrets). Source:
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_diff/
 */
export function diffObjects(
  label: string,
  live: KubeObject | undefined,
  wouldBe: KubeObject,
): ObjectDiff {
  const [before, after] = masked(live ? normalised(live) : undefined, normalised(wouldBe));
  const a = before === undefined ? '' : stringify(before, { sortMapEntries: true });
  const b = stringify(after, { sortMapEntries: true });
  const action = live ? 'update' : 'create';
  if (a === b) return { label, action };
  const patch = createTwoFilesPatch(`live/${label}`, `applied/${label}`, a, b, '', '', {
    context: 3,
  });
  // The first line of createTwoFilesPatch is a row of '='; the rest is the unified diff.
  return { label, action, diff: patch.split('\n').slice(1).join('\n').trimEnd() };
}

/** Labels the Job controller adds to a Job, its selector and its pod template. */
const JOB_LABELS = [
  'controller-uid',
  'job-name',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
];

function normalised(o: KubeObject): Record<string, unknown> {
  const copy = structuredClone(o) as Record<string, unknown> & {
    metadata?: Record<string, unknown>;
    spec?: {
      selector?: unknown;
      manualSelector?: boolean;
      template?: { metadata?: { labels?: Record<string, string> } };
    };
  };
  delete copy.status;
  for (const k of SERVER_METADATA) delete copy.metadata?.[k];
  if (copy.kind === 'Job') {
    // A Job is replaced, not patched: what the Job controller generates is not a change.
    const labels = [
      copy.metadata?.labels as Record<string, string> | undefined,
      copy.spec?.template?.metadata?.labels,
    ];
    for (const l of labels) for (const k of JOB_LABELS) delete l?.[k];
    if (!copy.spec?.manualSelector) delete copy.spec?.selector;
  }
  return copy;
}

/** Both objects with secret values masked in place (copies of the inputs). */
function masked(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): [Record<string, unknown> | undefined, Record<string, unknown>] {
  if (after.kind === 'Secret')
    for (const field of ['data', 'stringData'])
      maskMap(
        before?.[field] as Record<string, unknown> | undefined,
        after[field] as Record<string, unknown> | undefined,
      );
  maskEnv(before, after);
  return [before, after];
}

function maskMap(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): void {
  for (const k of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
    const same = before?.[k] === after?.[k];
    if (before && k in before) before[k] = same ? '***' : '*** (before)';
    if (after && k in after) after[k] = same ? '***' : '*** (after)';
  }
}

/** Every `env: [{name, value}]` list found in both trees, matched by path and name. */
function maskEnv(before: unknown, after: unknown): void {
  if (Array.isArray(after)) {
    after.forEach((a, i) => maskEnv(Array.isArray(before) ? before[i] : undefined, a));
    return;
  }
  if (!after || typeof after !== 'object') return;
  const a = after as Record<string, unknown>;
  const b = (before && typeof before === 'object' ? before : undefined) as
    Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(a)) {
    if (k === 'env' && Array.isArray(v)) {
      const old = Array.isArray(b?.env) ? (b.env as { name?: string; value?: unknown }[]) : [];
      maskValues(old, v as { name?: string; value?: unknown }[]);
    } else maskEnv(b?.[k], v);
  }
  // An env list that only the live object has (the manifest dropped every variable).
  if (b && Array.isArray(b.env) && !Array.isArray(a.env))
    maskValues(b.env as { name?: string; value?: unknown }[], []);
}

function maskValues(
  before: { name?: string; value?: unknown }[],
  after: { name?: string; value?: unknown }[],
): void {
  const old = new Map(before.map((e) => [e.name, e.value]));
  const now = new Map(after.map((e) => [e.name, e.value]));
  for (const e of before)
    if (typeof e.value === 'string') e.value = now.get(e.name) === e.value ? '***' : '*** (before)';
  for (const e of after)
    if (typeof e.value === 'string') e.value = old.get(e.name) === e.value ? '***' : '*** (after)';
}
