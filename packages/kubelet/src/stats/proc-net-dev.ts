import type { InterfaceStats } from './summary-types';

/** Every interface in /proc/net/dev with its byte and error counters. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit likewise.
    if (fields.length < 16 || fields.some((n) => !Number.isFinite(n))) continue;
    out.push({
      name,
      rxBytes: fields[0] as number,
      rxErrors: fields[2] as number,
      txBytes: fields[8] as number,
      txErrors: fields[10] as number,
    });
  }
  return out;
}

/**
 * The node's network figures: every interface but loopback, with the default one (upstream's
 * "eth0" when present, else the first) inline.
 */
export function nodeNetwork(
  interfaces: InterfaceStats[],
  defaultName = 'eth0',
): { primary?: InterfaceStats; interfaces: InterfaceStats[] } {
  const real = interfaces.filter((i) => i.name !== 'lo');
  return { primary: real.find((i) => i.name === defaultName) ?? real[0], interfaces: real };
}
