import { InvalidConfigError } from '@nodeagent/kubelet';

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
