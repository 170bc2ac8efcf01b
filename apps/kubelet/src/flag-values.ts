import { isIP } from 'node:net';
import { InvalidConfigError } from '@nodeagent/kubelet/errors';
import { parseDuration, parseQuantity } from '@nodeagent/primitives';
import type { KubeletFlagSpec } from './kubelet-flag-table';

/**
 * Parsers for upstream kubelet flag value syntaxes (pflag style), each failing with an
 * InvalidConfigError naming the flag and the value.
 */

export function parseBoolFlag(flag: string, value: string | boolean | undefined): boolean {
  if (value === undefined || value === true || value === '') return true;
  if (value === false) return false;
  switch (value.toLowerCase()) {
    case '1':
    case 't':
    case 'true':
      return true;
    case '0':
    case 'f':
    case 'false':
      return false;
    default:
      throw new InvalidConfigError(`--${flag}`, value, 'must be true or false');
  }
}

export function parseIntFlag(flag: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidConfigError(`--${flag}`, value, 'must be an integer');
  return Number(value);
}

export function parseListFlag(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** "key=value,key2=value2" (--node-labels, --system-reserved, --feature-gates). */
export function parseMapFlag(flag: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of parseListFlag(value)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidConfigError(`--${flag}`, item, 'must be key=value');
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** "memory.available<100Mi,nodefs.available<10%" (--eviction-hard, --eviction-soft). */
export function parseEvictionFlag(flag: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of parseListFlag(value)) {
    const lt = item.indexOf('<');
    if (lt <= 0)
      throw new InvalidConfigError(`--${flag}`, item, 'must be signal<quantity, e.g. memory.available<100Mi');
    out[item.slice(0, lt)] = item.slice(lt + 1);
  }
  return out;
}

export interface TaintFlag {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** "key=value:Effect,key2:Effect" (--register-with-taints). */
export function parseTaintsFlag(flag: string, value: string): TaintFlag[] {
  return parseListFlag(value).map((item) => {
    const colon = item.lastIndexOf(':');
    if (colon <= 0) throw new InvalidConfigError(`--${flag}`, item, 'must be key[=value]:Effect');
    const effect = item.slice(colon + 1);
    if (effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute') {
      throw new InvalidConfigError(
        `--${flag}`,
        item,
        'effect must be NoSchedule, PreferNoSchedule or NoExecute',
      );
    }
    const keyValue = item.slice(0, colon);
    const eq = keyValue.indexOf('=');
    return eq === -1
      ? { key: keyValue, effect }
      : { key: keyValue.slice(0, eq), value: keyValue.slice(eq + 1), effect };
  });
}

/** strconv.ParseBool's spellings. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function checkInteger(flag: string, text: string, bits: 32 | 64): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new InvalidConfigError(`--${flag}`, text, 'must be an integer');
  const n = Number(text);
  const limit = bits === 32 ? 2 ** 31 : 2 ** 63;
  if (n < -limit || n >= limit)
    throw new InvalidConfigError(`--${flag}`, text, `out of range for a ${bits}-bit integer`);
  return n;
}

/** pflag's StringSlice: each value is a CSV list; repeats append. */
function stringSlice(values: readonly string[]): string[] {
  return values.flatMap((value) => (value === '' ? [] : value.split(',').map((item) => item.trim())));
}

/** "pattern=N,pattern2=M" (--vmodule) as logging.vmodule entries. */
function parseVmodule(flag: string, value: string): { filePattern: string; verbosity: number }[] {
  return parseListFlag(value).map((item) => {
    const eq = item.lastIndexOf('=');
    const level = item.slice(eq + 1);
    if (eq <= 0 || !/^\d+$/.test(level))
      throw new InvalidConfigError(`--${flag}`, item, 'must be pattern=N with N a non-negative integer');
    return { filePattern: item.slice(0, eq), verbosity: Number(level) };
  });
}

/** "0:memory=1Gi,hugepages-1M=2Gi" (--reserved-memory): the NUMA node, then its limits. */
function parseReservedMemory(
  flag: string,
  value: string,
): { numaNode: number; limits: Record<string, string> } {
  const colon = value.indexOf(':');
  const node = value.slice(0, colon);
  if (colon <= 0 || !/^\d+$/.test(node))
    throw new InvalidConfigError(`--${flag}`, value, 'must be <NUMA node>:<resource>=<quantity>,...');
  const limits = parseMapFlag(flag, value.slice(colon + 1));
  for (const [resource, quantity] of Object.entries(limits)) {
    try {
      parseQuantity(quantity);
    } catch {
      throw new InvalidConfigError(`--${flag}`, `${resource}=${quantity}`, 'not a quantity (e.g. 1Gi)');
    }
  }
  return { numaNode: Number(node), limits };
}

/**
 * A flag's raw values (in command-line order) converted as pflag's value type converts them:
 * scalars take the last, lists and maps accumulate. Throws InvalidConfigError naming the flag.
 */
export function parseKubeletFlagValue(spec: KubeletFlagSpec, values: readonly string[]): unknown {
  const { flag } = spec;
  const last = values[values.length - 1] ?? '';
  const bad = (reason: string, value: string = last) => new InvalidConfigError(`--${flag}`, value, reason);
  switch (spec.type) {
    case 'bool':
    case 'RuntimeDefault': {
      const b = parseGoBool(last);
      if (b === undefined) throw bad('must be true or false');
      return b;
    }
    case 'version[=true]':
      if (last !== 'raw' && parseGoBool(last) === undefined) throw bad('must be true, false or raw');
      return last === 'raw' ? 'raw' : parseGoBool(last);
    case 'int':
      return checkInteger(flag, last, 64);
    case 'int32':
      return checkInteger(flag, last, 32);
    case 'Level': {
      const n = checkInteger(flag, last, 32);
      if (n < 0) throw bad('must be a non-negative integer');
      return n;
    }
    case 'duration':
      try {
        parseDuration(last);
      } catch {
        throw bad('not a duration (e.g. "300ms", "10s", "2h45m")');
      }
      return last;
    case 'quantity':
      try {
        parseQuantity(last);
      } catch {
        throw bad('not a quantity (e.g. "64Ki", "1M")');
      }
      return last;
    case 'ip':
      if (isIP(last) === 0) throw bad('not a valid IP address');
      return last;
    case 'strings':
      return stringSlice(values);
    case 'mapStringString': {
      // --eviction-hard and --eviction-soft separate key and value with "<" (LangleSeparatedMapStringString);
      // the policy options take one key=value per flag (MapStringStringNoSplit).
      const langle = flag === 'eviction-hard' || flag === 'eviction-soft';
      const noSplit = flag.endsWith('-policy-options');
      const out: Record<string, string> = {};
      for (const value of values) {
        if (langle) Object.assign(out, parseEvictionFlag(flag, value));
        else if (noSplit) {
          const eq = value.indexOf('=');
          if (eq <= 0) throw bad('must be key=value', value);
          out[value.slice(0, eq).trim()] = value.slice(eq + 1).trim();
        } else Object.assign(out, parseMapFlag(flag, value));
      }
      return out;
    }
    case 'mapStringBool': {
      const out: Record<string, boolean> = {};
      for (const value of values)
        for (const [key, text] of Object.entries(parseMapFlag(flag, value))) {
          const b = parseGoBool(text);
          if (b === undefined) throw bad('must be key=true|false', `${key}=${text}`);
          out[key] = b;
        }
      return out;
    }
    case 'colonSeparatedMultimapStringString': {
      const out: Record<string, string[]> = {};
      for (const item of stringSlice(values)) {
        const colon = item.indexOf(':');
        if (colon <= 0) throw bad('must be key:value,...', item);
        const key = item.slice(0, colon).trim();
        out[key] = [...(out[key] ?? []), item.slice(colon + 1).trim()];
      }
      return out;
    }
    case '[]v1.Taint':
      return parseTaintsFlag(flag, last);
    case 'reserved-memory':
      return values.map((value) => parseReservedMemory(flag, value));
    case 'pattern=N,...':
      return values.flatMap((value) => parseVmodule(flag, value));
    default:
      return last;
  }
}
