// Multi-document YAML manifests with `${NAME}` substitution in their string values. Pure.
import {
  LineCounter,
  parse as parseYamlValue,
  parseAllDocuments,
  visit,
  type ScalarTag,
  type Tags,
} from 'yaml';
import { InputError } from '../core/errors.js';
import { describeProblem, substitute, type Lookup } from './substitute.js';

/**
 * Integers with a leading 0 are octal (`0700` is 448), as kubectl reads them: its YAML decoder
 * (go-yaml v2 through sigs.k8s.io/yaml) parses integers with Go's `strconv.ParseInt(s, 0, 64)`,
 * where a leading 0 means octal. YAML 1.2, the yaml library's default, reads `0700` as 700, which
 * turns a `defaultMode: 0700` into mode 01274. `0o700`, `0x1F` and quoted `"0700"` already read
 * as kubectl reads them (448, 31, a string).
 * Source: https://github.com/go-yaml/yaml/blob/v2/resolve.go
 */
const LEGACY_OCTAL: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^[-+]?0[0-7]+$/,
  resolve: (text) => (text.startsWith('-') ? -1 : 1) * parseInt(text.replace(/^[-+]/, ''), 8),
};

/** Options of every manifest YAML parse: integers as kubectl reads them ({@link LEGACY_OCTAL}). */
const KUBECTL_YAML = { customTags: (tags: Tags) => [LEGACY_OCTAL, ...tags] };

/** A manifest file's text and the name to show for it (`<stdin>` for `-`). */
export interface ManifestSource {
  name: string;
  text: string;
}

/** Where a document came from, for messages: `tests.yaml: document 2 (line 14)`. */
export interface DocumentOrigin {
  source: string;
  /** 1-based position among the documents of its file. */
  index: number;
  /** 1-based line where the document (or the item) starts. */
  line: number;
  /** 1-based position in the `items` of a `kind: List` document, for an object from one. */
  item?: number;
}

/** One parsed, substituted document. */
export interface ParsedDocument {
  origin: DocumentOrigin;
  object: unknown;
  /** `metadata.name` as written, before substitution (`tests-${RUN_ID}`), when it is a string. */
  nameTemplate?: string | undefined;
}

/** `tests.yaml: document 2 (line 14)`. */
export function describeOrigin(o: DocumentOrigin): string {
  return `${o.source}: document ${o.index}${o.item !== undefined ? `, item ${o.item}` : ''} (line ${o.line})`;
}

/**
 * Parses every YAML document of every source and substitutes `${NAME}` in its string values
 * (not in keys, where a variable is an error; never in comments). A plain (unquoted) scalar that was substituted is read again as
 * YAML, so `backoffLimit: ${RETRIES}` becomes a number, as it would after a textual envsubst; a
 * quoted one stays a string. Substituted text can never add structure. Empty documents are
 * skipped. Throws InputError naming file, document and line for YAML errors (with a hint for an
 * unquoted `${…}` in a flow collection), aliases that expand too far, variables in keys, and
 * undefined or malformed variables (all of them, not just the first).
 */
export function parseManifests(
  sources: readonly ManifestSource[],
  lookup: Lookup,
): ParsedDocument[] {
  const { docs, problems } = readManifests(sources, lookup);
  if (problems.length > 0) throw new InputError(problems.join('\n'));
  return docs;
}

/**
 * {@link parseManifests} without throwing: the documents and every problem, so that a caller can
 * report them together with the validation's. A document with variable problems is kept, its
 * undefined variables replaced by `x` (so that its other problems can be found); a caller must
 * not run anything when `problems` is not empty. Each distinct problem of a document is one line,
 * with every line of the source where it occurs. A `kind: List` document gives its `items`.
 */
export function readManifests(
  sources: readonly ManifestSource[],
  lookup: Lookup,
): { docs: ParsedDocument[]; problems: string[] } {
  const out: ParsedDocument[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(source.text, {
      ...KUBECTL_YAML,
      lineCounter,
      prettyErrors: false,
    });
    if (!Array.isArray(docs)) {
      // An empty stream (only comments or whitespace).
      continue;
    }
    docs.forEach((doc, i) => {
      const origin: DocumentOrigin = {
        source: source.name,
        index: i + 1,
        line: lineCounter.linePos(doc.range[0]).line,
      };
      const yamlError = doc.errors[0];
      if (yamlError) {
        const at = yamlError.pos ? lineCounter.linePos(yamlError.pos[0]).line : origin.line;
        const hint = unquotedVariableInFlow(source.text, yamlError.pos?.[0]);
        problems.push(
          `${describeOrigin(origin)}: YAML error at line ${at}: ${firstLine(yamlError.message)}${hint}`,
        );
        return;
      }
      const rawName: unknown = doc.getIn(['metadata', 'name']);
      // The same for the items of a List (read before substitution changes them).
      const rawItemNames: unknown[] = [];
      for (let k = 0; doc.hasIn(['items', k]); k++)
        rawItemNames.push(doc.getIn(['items', k, 'metadata', 'name']));
      // Each distinct problem of the document once, with the lines where it occurs.
      const found = new Map<string, number[]>();
      const note = (message: string, line: number) => {
        const lines = found.get(message) ?? [];
        if (!lines.includes(line)) lines.push(line);
        found.set(message, lines);
      };
      visit(doc, {
        Scalar(key, node) {
          if (typeof node.value !== 'string') return;
          const line = node.range ? lineCounter.linePos(node.range[0]).line : origin.line;
          if (key === 'key' && hasVariable(node.value)) {
            // A key decides which field is set: a variable there could silently set another
            // field (metadata.name of a different object) than the one reviewed.
            note(
              `\${…} in the mapping key ${JSON.stringify(node.value)}: kubestep substitutes values only; write the key out (or "$\${" for a literal "\${")`,
              line,
            );
            return;
          }
          const r = substitute(node.value, lookup);
          for (const p of r.problems) {
            const raw = node.range ? source.text.slice(node.range[0], node.range[1]) : '';
            const offset = problemOffset(node.value, raw, p.at);
            note(
              describeProblem(p),
              offset === undefined ? line : lineCounter.linePos(node.range![0] + offset).line,
            );
          }
          if (!r.changed) return;
          // With problems: a stand-in, so that the document's other problems can be found.
          const text =
            r.problems.length > 0
              ? substitute(node.value, (n) => {
                  const v = lookup(n);
                  return typeof v === 'string' ? v : 'x';
                }).text
              : r.text;
          node.value = node.type === 'PLAIN' ? reparsePlain(text) : text;
        },
      });
      for (const [message, lines] of found) {
        const where = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.join(', ')}`;
        problems.push(`${origin.source}: document ${origin.index}, ${where}: ${message}`);
      }
      let object: unknown;
      try {
        object = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        // The yaml library refuses documents whose aliases expand too far ("billion laughs").
        if (!(err instanceof ReferenceError)) throw err;
        problems.push(
          `${describeOrigin(origin)}: YAML aliases expand too far (more than 100 uses of an anchor): ${err.message}`,
        );
        return;
      }
      if (object === null || object === undefined) return;
      if (isList(object)) {
        // What `kubectl get -o yaml` writes: each item is a document of its own.
        object.items.forEach((item, k) => {
          const node = doc.getIn(['items', k], true) as { range?: [number, number] } | undefined;
          const rawItemName = rawItemNames[k];
          out.push({
            origin: {
              ...origin,
              item: k + 1,
              line: node?.range ? lineCounter.linePos(node.range[0]).line : origin.line,
            },
            object: item,
            nameTemplate: typeof rawItemName === 'string' ? rawItemName : undefined,
          });
        });
        return;
      }
      out.push({ origin, object, nameTemplate: typeof rawName === 'string' ? rawName : undefined });
    });
  }
  return { docs: out, problems };
}

/** A `kind: List` (apiVersion v1) with an `items` array. */
function isList(o: unknown): o is { items: unknown[] } {
  if (typeof o !== 'object' || o === null) return false;
  const r = o as Record<string, unknown>;
  return r.kind === 'List' && r.apiVersion === 'v1' && Array.isArray(r.items);
}

/**
 * Where in `raw` (a scalar's source text) the `${` at index `at` of its `value` is: the same
 * occurrence of the same `${…}` text, counted from the start. Undefined when the source text
 * differs too much (escapes in a double-quoted string).
 */
function problemOffset(value: string, raw: string, at: number): number | undefined {
  const close = value.indexOf('}', at);
  const token = value.slice(at, close < 0 ? at + 2 : close + 1);
  let n = 0;
  for (let i = value.indexOf(token); i >= 0 && i < at; i = value.indexOf(token, i + 1)) n++;
  let pos = -1;
  for (let k = 0; k <= n; k++) {
    pos = raw.indexOf(token, pos + 1);
    if (pos < 0) return undefined;
  }
  return pos;
}

/** A substituted plain scalar means what the same text would mean in YAML, if it is a scalar. */
function reparsePlain(text: string): unknown {
  try {
    const v: unknown = parseYamlValue(text, KUBECTL_YAML);
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  } catch {
    // Not valid YAML on its own: it stays a string.
  }
  return text;
}

/** True when `text` has a `${` that is not the escape `$${`. */
function hasVariable(text: string): boolean {
  return text.replaceAll('$${', '').includes('${');
}

/**
 * A hint for a YAML error on a line with an unquoted `${…}` inside a flow collection
 * (`labels: {app: web-${RUN_ID}}`), whose braces YAML reads as structure; else ''.
 */
function unquotedVariableInFlow(text: string, pos: number | undefined): string {
  if (pos === undefined) return '';
  const start = text.lastIndexOf('\n', pos - 1) + 1;
  const end = text.indexOf('\n', pos);
  const line = text.slice(start, end < 0 ? text.length : end);
  if (!hasVariable(line) || !/[[{]/.test(line)) return '';
  return ' (a ${…} inside [...] or {...} must be quoted: "web-${RUN_ID}", not web-${RUN_ID})';
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
