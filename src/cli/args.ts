/** A small argv parser: positionals, `--flag`, `--opt value` / `--opt=value`, repeatable options. */
export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  flags: Set<string>;
  options: Map<string, string[]>;
  /** For each value in `options`, how many positionals came before it (an option may belong to the positional before it). */
  optionPlaces: Map<string, number[]>;
}

export function parseArgs(argv: string[], spec: { flags: string[]; options: string[] }): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Set(), options: new Map(), optionPlaces: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-' || !arg.startsWith('-')) {
      out.positionals.push(arg);
      continue;
    }
    // -h is --help wherever --help is (as for execscope -h itself).
    if (arg === '-h' && spec.flags.includes('--help')) {
      out.flags.add('--help');
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      out.flags.add(name);
    } else if (spec.options.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      // An empty value (--keylog=, --keylog "$UNSET") names nothing: said so, not looked for as a file named "".
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      out.options.set(name, [...(out.options.get(name) ?? []), value]);
      out.optionPlaces.set(name, [...(out.optionPlaces.get(name) ?? []), out.positionals.length]);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return out;
}

export function lastOption(args: ParsedArgs, name: string): string | undefined {
  return args.options.get(name)?.at(-1);
}
