import { MissingFlagValueError, UnexpectedArgumentError, UnknownFlagError } from './command-line-errors';
import { type KubeletFlagSpec, kubeletFlagSpec } from './kubelet-flag-table';

/** The flags given on a command line, each with its raw values in order (repeats kept). */
export type GivenFlags = Map<KubeletFlagSpec, string[]>;

/** Types whose flag takes no separate argument: `--x` is true, a value only as `--x=false`. */
export function isBoolLike(spec: KubeletFlagSpec): boolean {
  return spec.type === 'bool' || spec.type === 'RuntimeDefault' || spec.type === 'version[=true]';
}

/**
 * Splits argv as pflag does: `--name=value`, `--name value`, `-v=4`, `-v 4`, `-v4`, a bool flag
 * bare or with `=value`, `_` and `-` alike in names (component-base's WordSepNormalizeFunc), `--`
 * ends the flags. Every problem found is returned (the command line is reported at once).
 */
export function splitCommandLine(argv: readonly string[]): { given: GivenFlags; errors: Error[] } {
  const given: GivenFlags = new Map();
  const errors: Error[] = [];
  const add = (spec: KubeletFlagSpec, value: string) => given.set(spec, [...(given.get(spec) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      for (const rest of argv.slice(i + 1)) errors.push(new UnexpectedArgumentError(rest));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      errors.push(new UnexpectedArgumentError(arg));
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    let name = (eq === -1 ? body : body.slice(0, eq)).replaceAll('_', '-');
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    if (!long && name.length > 1) {
      // A shorthand with its value attached (-v4).
      value = name.slice(1) + (value === undefined ? '' : `=${value}`);
      name = name.slice(0, 1);
    }
    const spec = kubeletFlagSpec(name);
    if (!spec || (!long && spec.short !== name)) {
      errors.push(new UnknownFlagError(long ? `--${name}` : `-${name}`));
      continue;
    }
    if (value === undefined && !isBoolLike(spec)) {
      if (i + 1 >= argv.length) {
        errors.push(new MissingFlagValueError(long ? `--${name}` : `-${name}`));
        continue;
      }
      value = argv[++i]!;
    }
    add(spec, value ?? 'true');
  }
  return { given, errors };
}
