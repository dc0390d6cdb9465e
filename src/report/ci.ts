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
 * Sources: https://docs.github.com/en/actions/reference/workflows-and-actions/variables,
 * https://cloud.google.com/build/docs/configuring-builds/substitute-variable-values, https://no-color.org
 */
export function outputMode(
  env: Readonly<Record<string, string | undefined>>,
  stderrIsTTY: boolean,
): { mode: OutputMode; color: boolean } {
  if (env.GITHUB_ACTIONS === 'true') return { mode: 'github', color: false };
  if (env.BUILD_ID || env.CI || !stderrIsTTY || env.TERM === 'dumb') {
    return { mode: 'plain', color: false };
  }
  return { mode: 'terminal', color: !env.NO_COLOR };
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
