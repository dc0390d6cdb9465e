// `${NAME}` substitution in manifest strings. Pure.

/** Names that `${NAME}` may use: shell-style identifiers. */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a string could not be substituted. */
export type SubstituteProblem =
  | { kind: 'undefined'; name: string }
  | { kind: 'unterminated'; at: number }
  | { kind: 'bad-name'; name: string };

/** Result of {@link substitute}: the new text, whether it changed, and every problem found. */
export interface SubstituteResult {
  text: string;
  changed: boolean;
  problems: SubstituteProblem[];
}

/**
 * Replaces every `${NAME}` in `text` with `lookup(NAME)`; `$${` stands for a literal `${`.
 * A `$` not followed by `{` is left alone (shell scripts in manifests keep their `$VAR`), and so
 * is Kubernetes' own `$(VAR)`. Undefined names, `${` without `}` and names that are not
 * identifiers are reported in `problems`, not thrown.
 */
export function substitute(
  text: string,
  lookup: (name: string) => string | undefined,
): SubstituteResult {
  if (!text.includes('${')) return { text, changed: false, problems: [] };
  const problems: SubstituteProblem[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
      continue;
    }
    if (text[dollar + 1] !== '{') {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close < 0) {
      problems.push({ kind: 'unterminated', at: dollar });
      out += text.slice(dollar);
      break;
    }
    const name = text.slice(dollar + 2, close);
    if (!VAR_NAME.test(name)) {
      problems.push({ kind: 'bad-name', name });
    } else {
      const value = lookup(name);
      if (value === undefined) problems.push({ kind: 'undefined', name });
      else out += value;
    }
    i = close + 1;
  }
  return { text: out, changed: true, problems };
}

/** One sentence per problem, for error messages. */
export function describeProblem(p: SubstituteProblem): string {
  switch (p.kind) {
    case 'undefined':
      return `variable \${${p.name}} is not defined: pass --set ${p.name}=VALUE or set it in the environment`;
    case 'unterminated':
      return '"${" has no closing "}" (write "$${" for a literal "${")';
    case 'bad-name':
      return `"\${${p.name}}" is not a variable name (letters, digits and _, not starting with a digit; write "$\${" for a literal "\${")`;
  }
}
