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
  walk(written, stored, '', out);
  return out;
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
    const p = path ? `${path}.${k}` : k;
    // Label and annotation keys contain dots: the path names the map, the key is quoted.
    const child = /^[A-Za-z_][\w-]*$/.test(k) ? p : `${path}[${JSON.stringify(k)}]`;
    walk(v, s[k], child, out);
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
