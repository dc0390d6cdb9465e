// Rewrites yargs' "Unknown arguments" message in the user's own words. Pure.

/**
 * yargs reports unknown flags by their parsed names, camelCase twins included, and `--no-x` as
 * `x` ("Unknown arguments: such-flag, suchFlag"). Returns the message naming the tokens as the
 * user typed them (`unknown option --no-such-flag`), or `msg` unchanged when it is another
 * message or a name cannot be traced back to `argv` (the raw command line, without the program).
 * A missing -f is said with an example too.
 */
export function unknownArgumentsMessage(msg: string, argv: readonly string[]): string {
  if (msg === 'Missing required argument: filename') {
    const file = argv.find((a) => /\.ya?ml$/.test(a));
    return `-f FILE is required: name the test Job manifests, e.g. kubestep run -f ${file ?? 'tests.yaml'}`;
  }
  const m = /^Unknown arguments?: (.*)$/s.exec(msg);
  if (!m) return msg;
  const names = m[1]!.split(', ').map((n) => n.trim());
  const kebab = (n: string) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  // camelCase twins of a kebab-case name that is listed too.
  const own = names.filter((n) => !(n !== kebab(n) && names.includes(kebab(n))));
  const options: string[] = [];
  const positionals: string[] = [];
  for (const name of own) {
    const flag = argv.find((a) => {
      const bare = a.replace(/^--?/, '').split('=')[0];
      return a.startsWith('-') && (bare === name || bare === `no-${name}`);
    });
    if (flag) options.push(flag.split('=')[0]!);
    else if (argv.includes(name)) positionals.push(name);
    else return msg;
  }
  const parts: string[] = [];
  if (options.length > 0)
    parts.push(
      `unknown option${options.length > 1 ? 's' : ''} ${[...new Set(options)].join(', ')}`,
    );
  if (positionals.length > 0)
    parts.push(
      `unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals.join(', ')} (manifests go after -f)`,
    );
  return parts.join('; ');
}
