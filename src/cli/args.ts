// A small argument parser for the l4ts subcommands: positionals plus `--name value` and
// `--flag` options, each declared up front so that a misspelt option is an error, not ignored.

export interface OptionSpec {
  /** Takes a value (`--disk FILE`) or is a flag (`--caps`). */
  value: boolean;
  /** May be given more than once (values collected in order). */
  repeat?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    // `-o` is `--o`: single-letter options take one dash as well.
    const a = /^-[a-zA-Z]$/.test(argv[i]) ? `-${argv[i]}` : argv[i];
    if (!a.startsWith('--') || a === '--') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    let v = 'true';
    if (s.value) {
      if (eq >= 0) v = a.slice(eq + 1);
      else if (i + 1 < argv.length) v = argv[++i];
      else throw new UsageError(`option --${name} needs a value`);
    } else if (eq >= 0) {
      throw new UsageError(`option --${name} takes no value`);
    }
    const list = options.get(name) ?? [];
    if (list.length > 0 && !s.repeat) throw new UsageError(`option --${name} given twice`);
    list.push(v);
    options.set(name, list);
  }
  return { positionals, options };
}

/** A non-negative integer option (decimal, hex 0x.., or with a k/M/G suffix for powers of 1000). */
export function intOption(args: ParsedArgs, name: string, dflt: number): number {
  const v = args.options.get(name)?.[0];
  if (v === undefined) return dflt;
  const m = /^(0x[0-9a-f]+|\d+)([kmg]?)$/i.exec(v.replace(/_/g, ''));
  if (m === null) throw new UsageError(`option --${name}: '${v}' is not a number`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase()]!;
  return Number(m[1]) * mult;
}
