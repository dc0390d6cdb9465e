// Which CI kubestep runs in, and the escaping of GitHub Actions workflow commands. Pure.

/**
 * How the console writes: `github` (workflow commands: groups, annotations, masks), `terminal`
 * (colours, a status line), `plain` (Cloud Build and any other CI: plain text, no ANSI codes).
 */
export type OutputMode = 'github' | 'terminal' | 'plain';

/**
 * The output mode for this environment: GitHub Actions when `GITHUB_ACTIONS=true`; plain when
 * Cloud Build's `BUILD_ID` or a generic `CI` is set, or stderr is not a terminal, or
 * `TERM=dumb`; else terminal. Colours only on a terminal and without `NO_COLOR`.
 * `neutralise`: in a CI that is not known to be GitHub Actions (`CI` set: `docker run` inside a
 * workflow's `run:` step passes no `GITHUB_ACTIONS`), pod lines that the Actions runner would read
 * as workflow commands are defused; `KUBESTEP_POD_COMMANDS=pass` turns that off.
 * Sources: https://docs.github.com/en/actions/reference/workflows-and-actions/variables,
 * https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values, https://no-color.org
 */
export function outputMode(
  env: Readonly<Record<string, string | undefined>>,
  stderrIsTTY: boolean,
): { mode: OutputMode; color: boolean; neutralise: boolean } {
  if (env.GITHUB_ACTIONS === 'true') return { mode: 'github', color: false, neutralise: false };
  const neutralise = Boolean(env.CI) && env.KUBESTEP_POD_COMMANDS !== 'pass';
  if (env.BUILD_ID || env.CI || !stderrIsTTY || env.TERM === 'dumb') {
    return { mode: 'plain', color: false, neutralise };
  }
  return { mode: 'terminal', color: !env.NO_COLOR, neutralise };
}

/**
 * A pod line the GitHub Actions runner would read as a workflow command (`::cmd::`, or the old
 * `##[cmd]`, after leading white space) with a zero-width space put first, so that it is shown
 * but not obeyed; other lines as they are.
 * Source: actions/runner src/Runner.Worker/ActionCommandManager.cs (TryParseV2: TrimStart, then "::")
 */
export function defuseWorkflowCommand(line: string): string {
  return /^\s*(::|##\[)/.test(line) ? `\u200b${line}` : line;
}

/**
 * Escapes the message of a workflow command (`%`, CR, LF), as @actions/core does.
 * Source: actions/toolkit packages/core/src/command.ts
 */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property of a workflow command (also `:` and `,`), as @actions/core does. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `text` with every control character except newline and tab made visible, so that it cannot
 * move the cursor, clear the screen, set the clipboard (OSC 52) or start a line of its own (a
 * lone CR: the GitHub Actions runner splits lines on CR): ESC → `^[`, CR → `\r`, other C0
 * characters and DEL in caret notation (`^A`, `^?`), C1 characters as `\x9b`.
 */
export function visibleControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\r') return '\\r';
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `\\x${code.toString(16)}`;
  });
}
