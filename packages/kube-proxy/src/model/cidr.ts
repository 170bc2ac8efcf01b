/** Whether `ip` lies inside `cidr` (same family only). */
export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (!net || bitsText === undefined) return false;
  const a = ipToBigInt(net);
  const b = ipToBigInt(ip);
  if (a === undefined || b === undefined || a.v6 !== b.v6) return false;
  const width = a.v6 ? 128n : 32n;
  const bits = BigInt(Number(bitsText));
  if (bits > width) return false;
  const shift = width - bits;
  return a.n >> shift === b.n >> shift;
}

function ipToBigInt(ip: string): { n: bigint; v6: boolean } | undefined {
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return { n: groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n), v6: true };
  }
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return { n: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n), v6: false };
}
