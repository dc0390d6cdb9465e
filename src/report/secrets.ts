// Hiding secret values in everything kubestep writes. Pure.

/** Replaces every secret value in a text with `***`. */
export type Redact = (text: string) => string;

/** Secret values shorter than this cannot be hidden without garbling all output. */
export const MIN_SECRET_LENGTH = 3;

/**
 * A function that replaces each of `secrets` (and each line of a multi-line one) with `***`,
 * longest first so that a secret containing another is hidden whole; also each as quoted in
 * JSON and by Go's `%q` (`"` → `\"`, `\` → `\\`), as the API server, the container runtime
 * and the kubelet quote it in their messages. Values shorter than {@link MIN_SECRET_LENGTH} are
 * ignored (the caller refuses or reports them). With no secrets it is the identity.
 */
export function redactor(secrets: Iterable<string>): Redact {
  const values = new Set<string>();
  for (const s of secrets) {
    for (const v of [s, ...s.split(/\r?\n/)]) {
      if (v.trim().length < MIN_SECRET_LENGTH) continue;
      values.add(v);
      values.add(JSON.stringify(v).slice(1, -1));
    }
  }
  if (values.size === 0) return (t) => t;
  const sorted = [...values].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  return (t) => t.replace(pattern, '***');
}

/**
 * `value` with `redact` applied to every string in it (objects and arrays copied, other values
 * as they are): redaction before serialising, so that a secret with `"`, `\\`, `|` or `<`, which
 * JSON or Markdown would escape, is still found.
 */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactDeep(v as unknown, redact)]),
    ) as T;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The secret values of Secret manifests: every `stringData` value and every `data` value decoded
 * from base64 (each of them is also a secret in its base64 form).
 * Source: https://kubernetes.io/docs/concepts/configuration/secret/
 */
export function secretValuesOf(object: {
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
}): string[] {
  const out: string[] = [];
  for (const v of Object.values(object.stringData ?? {})) {
    if (typeof v === 'string') out.push(v);
  }
  for (const v of Object.values(object.data ?? {})) {
    if (typeof v !== 'string') continue;
    out.push(v, Buffer.from(v, 'base64').toString('utf8'));
  }
  return out;
}
