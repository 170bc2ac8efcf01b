import type { PortSpec } from './model';

/** Marks and masks as upstream kube-proxy prints them: Go's `%#08x`, i.e. `0x` + 8 hex digits. */
export function formatHex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** A statistic probability with exactly 10 decimals, like upstream's `%0.10f`. */
export function formatProbability(probability: number): string {
  return probability.toFixed(10);
}

/**
 * The probability for rule `index` of `count` endpoint rules so that each endpoint gets an
 * equal share: 1/(count-index). The last rule (probability 1) carries no statistic match.
 */
export function endpointProbability(index: number, count: number): number {
  return 1 / (count - index);
}

/** A port or `from:to` range as iptables prints it. */
export function formatPort(port: PortSpec): string {
  return typeof port === 'number' ? String(port) : `${port[0]}:${port[1]}`;
}
