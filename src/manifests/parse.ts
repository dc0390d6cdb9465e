// Multi-document YAML manifests with `${NAME}` substitution in their string values. Pure.
import { LineCounter, parse as parseYamlValue, parseAllDocuments, visit } from 'yaml';
import { InputError } from '../core/errors.js';
import { describeProblem, substitute, type Lookup } from './substitute.js';

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
  /** 1-based line where the document starts. */
  line: number;
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
  return `${o.source}: document ${o.index} (line ${o.line})`;
}

/**
 * Parses every YAML document of every source and substitutes `${NAME}` in its string values
 * (keys too, comments never). A plain (unquoted) scalar that was substituted is read again as
 * YAML, so `backoffLimit: ${RETRIES}` becomes a number, as it would after a textual envsubst; a
 * quoted one stays a string. Substituted text can never add structure. Empty documents are
 * skipped. Throws InputError naming file, document and line for YAML errors and for undefined or
 * malformed variables (all of them, not just the first).
 */
export function parseManifests(
  sources: readonly ManifestSource[],
  lookup: Lookup,
): ParsedDocument[] {
  const out: ParsedDocument[] = [];
  const problems: string[] = [];
  for (const source of sources) {
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(source.text, { lineCounter, prettyErrors: false });
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
        problems.push(
          `${describeOrigin(origin)}: YAML error at line ${at}: ${firstLine(yamlError.message)}`,
        );
        return;
      }
      const rawName: unknown = doc.getIn(['metadata', 'name']);
      visit(doc, {
        Scalar(_key, node) {
          if (typeof node.value !== 'string') return;
          const r = substitute(node.value, lookup);
          const line = node.range ? lineCounter.linePos(node.range[0]).line : origin.line;
          for (const p of r.problems) {
            problems.push(
              `${origin.source}: document ${origin.index}, line ${line}: ${describeProblem(p)}`,
            );
          }
          if (!r.changed || r.problems.length > 0) return;
          node.value = node.type === 'PLAIN' ? reparsePlain(r.text) : r.text;
        },
      });
      const object: unknown = doc.toJS({ maxAliasCount: 100 });
      if (object === null || object === undefined) return;
      out.push({ origin, object, nameTemplate: typeof rawName === 'string' ? rawName : undefined });
    });
  }
  if (problems.length > 0) {
    throw new InputError(problems.join('\n'));
  }
  return out;
}

/** A substituted plain scalar means what the same text would mean in YAML, if it is a scalar. */
function reparsePlain(text: string): unknown {
  try {
    const v: unknown = parseYamlValue(text);
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  } catch {
    // Not valid YAML on its own: it stays a string.
  }
  return text;
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
