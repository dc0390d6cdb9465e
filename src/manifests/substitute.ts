// `${NAME}` substitution in manifest strings. Pure.

/** Names that `${NAME}` may use: shell-style identifiers. */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What a lookup answers for a variable the environment has but kubestep does not give to
 * manifests: a credential-like name (see {@link isWithheldFromEnv}) not allowed with --env.
 */
export const WITHHELD = Symbol('withheld');

/** The value of `${NAME}`: a string, undefined (not defined), or {@link WITHHELD}. */
export type Lookup = (name: string) => string | undefined | typeof WITHHELD;

/** Why a string could not be substituted; `at`: index of the `$` in the text. */
export type SubstituteProblem =
  | { kind: 'undefined'; name: string; at: number }
  | { kind: 'withheld'; name: string; at: number }
  | { kind: 'unterminated'; at: number }
  | { kind: 'bad-name'; name: string; at: number };

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
export function substitute(text: string, lookup: Lookup): SubstituteResult {
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
      problems.push({ kind: 'bad-name', name, at: dollar });
    } else {
      const value = lookup(name);
      if (value === undefined) problems.push({ kind: 'undefined', name, at: dollar });
      else if (value === WITHHELD) problems.push({ kind: 'withheld', name, at: dollar });
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
    case 'withheld':
      return `variable \${${p.name}} is in the environment, but its name looks like a credential, which kubestep does not copy into manifests (README: Manifests and variables): pass --env ${p.name} to allow it, or --set-secret ${p.name}=VALUE`;
    case 'unterminated':
      return '"${" has no closing "}" (write "$${" for a literal "${")';
    case 'bad-name':
      return `"\${${p.name}}" is not a variable name (letters, digits and _, not starting with a digit; write "$\${" for a literal "\${")`;
  }
}

/** Prefixes of environment variables that belong to the CI system, the cloud or kubestep. */
const WITHHELD_PREFIXES = ['INPUT_', 'ACTIONS_', 'GOOGLE_', 'AWS_', 'AZURE_', 'KUBESTEP_'];
/** Parts of names that say "credential". */
const WITHHELD_PARTS = ['TOKEN', 'SECRET', 'PASSWORD', 'KEY'];

/**
 * True for environment variables that `${NAME}` does not read unless --env names them: the
 * GitHub Action's inputs and runtime (`INPUT_*`, `ACTIONS_*`, `GITHUB_TOKEN`), cloud credentials
 * (`GOOGLE_*`, `AWS_*`, `AZURE_*`), kubestep's own (`KUBESTEP_*`), `KUBECONFIG`, and every name
 * containing TOKEN, SECRET, PASSWORD or KEY (case-insensitive). A manifest would otherwise copy
 * them into a pod, and so into etcd.
 */
export function isWithheldFromEnv(name: string): boolean {
  const n = name.toUpperCase();
  if (n === 'KUBECONFIG' || n === 'GITHUB_TOKEN') return true;
  return (
    WITHHELD_PREFIXES.some((p) => n.startsWith(p)) || WITHHELD_PARTS.some((p) => n.includes(p))
  );
}

/**
 * The lookup of `${NAME}`: `RUN_ID`, then `vars` (--set-secret, --set), then `env`, where a
 * withheld name ({@link isWithheldFromEnv}) gives {@link WITHHELD} unless `allowEnv` has it.
 */
export function variableLookup(opts: {
  runId: string;
  vars: Readonly<Record<string, string>>;
  env: Readonly<Record<string, string | undefined>>;
  allowEnv: ReadonlySet<string>;
}): Lookup {
  return (name) => {
    if (name === 'RUN_ID') return opts.runId;
    if (Object.hasOwn(opts.vars, name)) return opts.vars[name];
    const value = Object.hasOwn(opts.env, name) ? opts.env[name] : undefined;
    if (value === undefined) return undefined;
    return isWithheldFromEnv(name) && !opts.allowEnv.has(name) ? WITHHELD : value;
  };
}
