// Shapes users write that kubestep turns into what it runs: `metadata.generateName` (a name for
// this run), and a bare Pod as a test (a Job around it). Pure.
import { createHash } from 'node:crypto';
import type { DocumentOrigin } from './parse.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The characters the API server draws a generated name's suffix from (no vowels, no 0, 1, 3). */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The API server keeps at most this much of a generateName, so that 5 more fit in 63. */
const MAX_GENERATE_NAME = 58;

/**
 * For an object with `metadata.generateName` and no `name`: a copy named `generateName` plus 5
 * characters (as the API server does), the same for the same run id and document (a retried
 * attempt of the run finds its objects by name), another for every run; `nameTemplate` is the
 * generateName, so that runs of the same manifests are recognised as such (the sweep). Other
 * objects are returned as they are.
 * Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#generated-values
 */
export function withGeneratedName(
  object: unknown,
  runId: string,
  origin: DocumentOrigin,
): { object: unknown; nameTemplate?: string | undefined } {
  if (!isObj(object) || !isObj(object.metadata)) return { object };
  const { generateName, name } = object.metadata;
  if (typeof generateName !== 'string' || generateName === '' || name !== undefined)
    return { object };
  const digest = createHash('sha256')
    .update(`${runId}/${origin.source}/${origin.index}/${origin.item ?? 0}`)
    .digest();
  const suffix = [...digest.subarray(0, 5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  const metadata: Obj = {
    ...object.metadata,
    name: generateName.slice(0, MAX_GENERATE_NAME) + suffix,
  };
  delete metadata.generateName;
  return { object: { ...object, metadata }, nameTemplate: generateName };
}

/** True for a v1 Pod whose restartPolicy lets it end (Never or OnFailure): a test, not a service. */
export function isTestPod(object: unknown): boolean {
  if (!isObj(object) || object.kind !== 'Pod' || object.apiVersion !== 'v1') return false;
  const spec = isObj(object.spec) ? object.spec : {};
  return spec.restartPolicy === 'Never' || spec.restartPolicy === 'OnFailure';
}

/**
 * A bare Pod as a test (Helm's test hooks, `kubectl run --restart=Never`): a batch/v1 Job of the
 * same name, labels and annotations whose pod template is the Pod, with `backoffLimit: 0` (it
 * runs once, as the Pod would). Its pod is named by the Job controller (`NAME-xxxxx`).
 */
export function podAsJob(pod: Obj): Obj {
  const metadata = isObj(pod.metadata) ? pod.metadata : {};
  const { labels, annotations } = metadata;
  const kept = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: kept({
      name: metadata.name,
      generateName: metadata.generateName,
      namespace: metadata.namespace,
      labels,
      annotations,
    }),
    spec: {
      backoffLimit: 0,
      template: { metadata: kept({ labels, annotations }), spec: pod.spec },
    },
  };
}
