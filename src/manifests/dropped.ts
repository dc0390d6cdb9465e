// Fields the API server dropped: the manifest against the server's dry-run answer. Pure.

/**
 * Paths (`spec.completionMode`, `spec.template.spec.initContainers[0].restartPolicy`) of the
 * fields that `written` sets and `stored` (the API server's answer to a dry-run create) does not
 * have: fields the server does not know, which it drops silently unless asked for strict field
 * validation (Kubernetes < 1.25, or without `fieldValidation=Strict`). Zero values (`null`, `""`,
 * `false`, `0`, `{}`, `[]`) are not reported: the server drops those too, meaning the same. Under
 * `metadata`, only `name`, `generateName`, `namespace`, `labels` and `annotations` are compared
 * (the server owns the rest).
 * Source: https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation
 */
export function droppedFields(written: unknown, stored: unknown): string[] {
  const out: string[] = [];
  walk(withoutStringData(written), stored, '', out);
  out.push(...lostStringData(written, stored));
  return out;
}

/** Whether `o` is a v1 Secret with a `stringData` map. */
const secretWithStringData = (o: unknown): o is { stringData: Record<string, unknown> } =>
  isObj(o) && o.kind === 'Secret' && isObj(o.stringData);

/** `written` without a Secret's `stringData` (compared by {@link lostStringData}). */
function withoutStringData(written: unknown): unknown {
  if (!secretWithStringData(written)) return written;
  return Object.fromEntries(Object.entries(written).filter(([k]) => k !== 'stringData'));
}

/**
 * The keys of a Secret's `stringData` missing from the answer's `data`: the field is write-only,
 * the API server merges it into `data` and never returns it.
 * Source: https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/secret-v1/
 */
function lostStringData(written: unknown, stored: unknown): string[] {
  if (!secretWithStringData(written)) return [];
  const data = isObj(stored) && isObj(stored.data) ? stored.data : {};
  return Object.keys(written.stringData)
    .filter((k) => !(k in data))
    .map((k) => childPath('stringData', k));
}

const KEPT_METADATA = new Set(['name', 'generateName', 'namespace', 'labels', 'annotations']);

function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `path.key`, or `path["key"]` for a key with dots (labels, annotations, data keys). */
function childPath(path: string, k: string): string {
  if (!/^[A-Za-z_][\w-]*$/.test(k)) return `${path}[${JSON.stringify(k)}]`;
  return path ? `${path}.${k}` : k;
}

function walk(w: unknown, s: unknown, path: string, out: string[]): void {
  if (isZero(w)) return;
  if (s === undefined || s === null) {
    out.push(path);
    return;
  }
  if (Array.isArray(w)) {
    if (!Array.isArray(s)) return;
    w.forEach((item, i) => walk(item, s[i], `${path}[${i}]`, out));
    return;
  }
  if (!isObj(w) || !isObj(s)) return;
  for (const [k, v] of Object.entries(w)) {
    if (path === 'metadata' && !KEPT_METADATA.has(k)) continue;
    walk(v, s[k], childPath(path, k), out);
  }
}

/**
 * What a dropped field means for the run, when kubestep knows more than the path: a native
 * sidecar (`initContainers[].restartPolicy: Always`, Kubernetes 1.28+) becomes an init container
 * that never ends, so the pod would never start its containers. Undefined for other paths.
 * Source: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
 */
export function droppedHint(paths: readonly string[]): string | undefined {
  if (!paths.some((p) => /initContainers\[\d+\]\.restartPolicy$/.test(p))) return undefined;
  return 'native sidecars need Kubernetes 1.28 or newer: here the sidecar would be an init container that never ends; make it a regular container and name it with --sidecar or the annotation kubestep.dev/sidecars (README: Sidecars)';
}
