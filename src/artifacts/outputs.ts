// Values for the next step: the file `$KUBESTEP_OUTPUT` that a test writes, in GitHub's
// `$GITHUB_OUTPUT` format. Pure.
// Source: https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#setting-an-output-parameter

/** The file's name in the artifacts directory; `$KUBESTEP_OUTPUT` points at it. */
export const OUTPUT_FILE = '.kubestep-output';

/** At most this much of the file is read, bytes (GitHub's own limit for a step is 1 MiB). */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;

/**
 * The values of an output file: `NAME=VALUE` lines, and `NAME<<DELIMITER` … `DELIMITER` for
 * values with line breaks; a later value of a name replaces an earlier one. Lines that are
 * neither, names that are not identifiers (letters, digits, `_`, `-`; at most 100) and a
 * delimiter that never comes are problems, named with their line.
 */
export function parseOutputs(text: string): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    const pair = /^([^=]+)=(.*)$/.exec(line);
    const name = (heredoc?.[1] ?? pair?.[1] ?? '').trim();
    if (!heredoc && !pair) {
      problems.push(`line ${i + 1}: not NAME=VALUE or NAME<<DELIMITER`);
      continue;
    }
    if (!NAME.test(name)) {
      problems.push(
        `line ${i + 1}: ${JSON.stringify(name.slice(0, 100))} is not an output name (letters, digits, _ and -)`,
      );
      if (heredoc) i = skipTo(lines, i, heredoc[2]!);
      continue;
    }
    if (heredoc) {
      const end = skipTo(lines, i, heredoc[2]!);
      if (end >= lines.length) {
        problems.push(`line ${i + 1}: ${name}<<${heredoc[2]} has no closing ${heredoc[2]}`);
        break;
      }
      values[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else values[name] = pair![2]!;
  }
  return { values, problems };
}

/** The index of the line after `from` that is `delimiter`, or lines.length. */
function skipTo(lines: readonly string[], from: number, delimiter: string): number {
  for (let j = from + 1; j < lines.length; j++) if (lines[j] === delimiter) return j;
  return lines.length;
}
