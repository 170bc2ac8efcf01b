import { InvalidFieldError } from '@nodeagent/kube-proxy';
import { appendPortIfNeeded, PROXY_HEALTHZ_PORT, PROXY_METRICS_PORT } from '@nodeagent/kube-proxy/config';
import { type Command, Option } from 'commander';
import { FLAGS, type FlagSpec } from './flag-table';
import { parseFlagValue } from './flag-values';

export { FLAGS, type FlagSpec, flagSpec } from './flag-table';

/** The flags that set KubeProxyConfiguration fields (what `render` takes besides its own). */
export const CONFIG_FLAGS: readonly FlagSpec[] = FLAGS.filter((f) => f.paths.length > 0);

/** commander's attribute name for `--<flag>`. */
export function optionName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** `--help`'s line for a flag: its type (as pflag prints it) and upstream's default. */
function optionFor(f: FlagSpec): Option {
  const names = f.short ? `-${f.short}, --${f.flag}` : `--${f.flag}`;
  const value = f.type === 'bool' ? '[bool]' : f.type === 'version[=true]' ? '[version]' : `<${f.type}>`;
  const help = f.default === '' ? f.help : `${f.help} (default ${f.default})`;
  const option = new Option(`${names} ${value}`, f.extension ? `${help} [nodeagent]` : help);
  // pflag's list and map values accumulate over repeated flags (--nodeport-addresses a --nodeport-addresses b).
  if (f.type === 'strings' || f.type === 'mapStringBool' || f.type === 'pattern=N,...') {
    option.argParser((v: string, previous: string | undefined) =>
      previous === undefined ? v : `${previous},${v}`,
    );
  }
  return f.deprecated ? option.hideHelp() : option;
}

/** Registers `specs` (default: every upstream flag and ours) on `cmd`; defaults come from the configuration schema. */
export function addConfigFlags(cmd: Command, specs: readonly FlagSpec[] = FLAGS): Command {
  for (const f of specs) cmd.addOption(optionFor(f));
  return cmd;
}

/** Converts a flag's text to its configuration value (throws InvalidFieldError naming the flag). */
export function flagValue(spec: FlagSpec, raw: unknown): unknown {
  // pflag takes `-v=4` for a shorthand; commander hands over "=4".
  const s = spec.short && typeof raw === 'string' && raw.startsWith('=') ? raw.slice(1) : raw;
  return parseFlagValue(spec, s === true ? 'true' : (s as string | boolean));
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[k];
  return cur;
}

export interface FlagOverlay {
  /** The configuration object: the file's (or {}) with the flags that apply on top. */
  config: Record<string, unknown>;
  /** One line each: deprecations (pflag's wording), flags without effect, flags --config overrides. */
  warnings: string[];
  /** Every bad flag value, each naming its flag. */
  errors: InvalidFieldError[];
  /** --healthz-port / --metrics-port as given. */
  deprecatedPorts: Partial<Record<'healthz-port' | 'metrics-port', number>>;
}

/**
 * Overlays the flags given on the command line onto the configuration, as upstream's Options
 * do: without --config every flag sets its field; with --config the file replaces everything
 * except the logging flags and --hostname-override (upstream ignores the rest silently; we warn).
 */
export function overlayFlags(
  base: Record<string, unknown>,
  opts: Record<string, unknown>,
  givenOnCommandLine: (optionName: string) => boolean,
  withConfigFile = false,
): FlagOverlay {
  const out: FlagOverlay = {
    config: structuredClone(base),
    warnings: [],
    errors: [],
    deprecatedPorts: {},
  };
  for (const f of FLAGS) {
    const name = optionName(f.flag);
    if (!givenOnCommandLine(name) || opts[name] === undefined) continue;
    let value: unknown;
    try {
      value = flagValue(f, opts[name]);
    } catch (err) {
      if (err instanceof InvalidFieldError) out.errors.push(err);
      else throw err;
      continue;
    }
    if (f.deprecated) out.warnings.push(`Flag --${f.flag} has been deprecated, ${f.deprecated}`);
    if (f.noEffect) out.warnings.push(`--${f.flag} has no effect: ${f.noEffect}`);
    if (f.paths.length === 0) continue;
    if (withConfigFile && f.precedence === 'file-wins') {
      out.warnings.push(
        `--${f.flag} is ignored: a --config file is given, and as upstream its ${f.paths.join(', ')} wins over flags`,
      );
      continue;
    }
    applyFlag(out, f, value);
  }
  if (!withConfigFile) applyServerPorts(out);
  return out;
}

/**
 * addressFromDeprecatedFlags, which upstream applies whenever there is no config file: port 0
 * (--healthz-port=0) disables the server, any other port fills in an address given without one.
 */
function applyServerPorts(out: FlagOverlay): void {
  for (const [flag, path, port] of [
    ['healthz-port', 'healthzBindAddress', PROXY_HEALTHZ_PORT],
    ['metrics-port', 'metricsBindAddress', PROXY_METRICS_PORT],
  ] as const) {
    const address = getPath(out.config, path);
    if (typeof address !== 'string') continue;
    const p = out.deprecatedPorts[flag] ?? port;
    const value = p === 0 ? '' : appendPortIfNeeded(address, p);
    if (value === address) continue;
    setPath(out.config, path, value);
  }
}

function applyFlag(out: FlagOverlay, f: FlagSpec, value: unknown): void {
  const c = out.config;
  if (f.flag === 'hostname-override') {
    // processHostnameOverrideFlag: an empty value leaves the file's; only blanks is an error.
    const name = String(value);
    if (name === '') return;
    if (name.trim() === '') {
      out.errors.push(
        new InvalidFieldError('--hostname-override', name, 'empty hostname-override is invalid'),
      );
      return;
    }
    value = name.trim().toLowerCase();
  } else if (f.flag === 'healthz-port' || f.flag === 'metrics-port') {
    out.deprecatedPorts[f.flag] = value as number;
    return;
  } else if (f.flag === 'vmodule') {
    // copyLogsFromFlags: the flag's patterns first, then the file's.
    const file = getPath(c, 'logging.vmodule');
    value = [...(value as unknown[]), ...(Array.isArray(file) ? file : [])];
  }
  for (const p of f.paths) setPath(c, p, value);
}
