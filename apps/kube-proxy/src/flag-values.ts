import { isIP } from 'node:net';
import { InvalidFieldError } from '@nodeagent/kube-proxy';
import { parseDuration, parseQuantity } from '@nodeagent/primitives';
import type { FlagSpec } from './flag-table';

/**
 * A flag's text converted as pflag's value type converts it, or an InvalidFieldError naming the
 * flag and the value (pflag refuses a bad value while it parses, before any file is read).
 * Enum-like types (ProxyMode, LocalMode) take any string, as upstream's do: the configuration's
 * validation names the field.
 */
export function parseFlagValue(spec: FlagSpec, raw: string | boolean): unknown {
  const text = typeof raw === 'boolean' ? String(raw) : raw;
  const bad = (reason: string) => new InvalidFieldError(`--${spec.flag}`, text, reason);
  switch (spec.type) {
    case 'bool': {
      const b = parseGoBool(text);
      if (b === undefined) throw bad('not a boolean (true or false)');
      return b;
    }
    case 'int32':
    case 'Level': {
      if (!/^[+-]?\d+$/.test(text)) throw bad('not an integer');
      const n = Number(text);
      if (n < -(2 ** 31) || n >= 2 ** 31) throw bad('out of range for a 32-bit integer');
      return n;
    }
    case 'float32': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw bad('not a number');
      return n;
    }
    case 'duration':
      try {
        parseDuration(text);
      } catch {
        throw bad('not a duration (e.g. "5s", "1m", "2h22m")');
      }
      return text;
    case 'quantity':
      try {
        parseQuantity(text);
      } catch {
        throw bad('not a quantity (e.g. "64Ki", "1M")');
      }
      return text;
    case 'ip':
      if (isIP(text) === 0) throw bad('not a valid IP address');
      return text;
    case 'ipport':
      return parseIpPort(text, bad);
    case 'strings':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    case 'mapStringBool':
      return parseMapStringBool(text, bad);
    case 'pattern=N,...':
      return parseVmodule(text, bad);
    default:
      return text;
  }
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(text)) return false;
  return undefined;
}

/** "IP" or "IP:port" (IPv6 in brackets); empty disables the server, as upstream's IPPortVar. */
function parseIpPort(text: string, bad: (reason: string) => Error): string {
  if (text.trim() === '' || isIP(text) !== 0) return text;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text);
  if (!m) throw bad('not in a valid format (ip or ip:port)');
  if (isIP(m[1] ?? m[2] ?? '') === 0) throw bad('not a valid IP address');
  if (Number(m[3]) > 65535) throw bad('not a valid port');
  return text;
}

function parseMapStringBool(text: string, bad: (reason: string) => Error): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) throw bad(`missing "=" in ${JSON.stringify(pair)} (want key=true|false)`);
    const b = parseGoBool(pair.slice(eq + 1).trim());
    if (b === undefined) throw bad(`${JSON.stringify(pair)}: value must be true or false`);
    out[pair.slice(0, eq).trim()] = b;
  }
  return out;
}

/** klog's -vmodule: comma-separated pattern=N into LoggingConfiguration.vmodule entries. */
function parseVmodule(
  text: string,
  bad: (reason: string) => Error,
): { filePattern: string; verbosity: number }[] {
  if (text === '') return [];
  return text.split(',').map((item) => {
    const m = /^([^=]+)=(\d+)$/.exec(item.trim());
    if (!m) throw bad('expect comma-separated list of pattern=N');
    return { filePattern: m[1]!, verbosity: Number(m[2]) };
  });
}
