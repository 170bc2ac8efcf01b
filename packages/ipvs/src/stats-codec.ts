import { parseAttributes, readU32, readU64 } from './attributes';
import { StatsAttr } from './constants';
import type { Stats } from './types';

const fields: [keyof Stats, number][] = [
  ['connections', StatsAttr.CONNS],
  ['packetsIn', StatsAttr.INPKTS],
  ['packetsOut', StatsAttr.OUTPKTS],
  ['bytesIn', StatsAttr.INBYTES],
  ['bytesOut', StatsAttr.OUTBYTES],
  ['cps', StatsAttr.CPS],
  ['ppsIn', StatsAttr.INPPS],
  ['ppsOut', StatsAttr.OUTPPS],
  ['bpsIn', StatsAttr.INBPS],
  ['bpsOut', StatsAttr.OUTBPS],
];

/** IPVS_*_ATTR_STATS64: every counter and rate is a u64. */
export function decodeStats64(buf: Buffer): Stats {
  const attrs = parseAttributes(buf, 'stats64');
  const out = {} as Stats;
  for (const [name, type] of fields) out[name] = readU64(attrs.get(type), `stats64.${name}`) ?? 0n;
  return out;
}

/** IPVS_*_ATTR_STATS (older kernels): byte counters u64, everything else u32. */
export function decodeStats32(buf: Buffer): Stats {
  const attrs = parseAttributes(buf, 'stats');
  const out = {} as Stats;
  for (const [name, type] of fields) {
    const wide = type === StatsAttr.INBYTES || type === StatsAttr.OUTBYTES;
    const v = wide ? readU64(attrs.get(type), `stats.${name}`) : readU32(attrs.get(type), `stats.${name}`);
    out[name] = BigInt(v ?? 0);
  }
  return out;
}

/** Prefer the 64-bit block; fall back to the 32-bit one. */
export function decodeStats(
  attrs: Map<number, Buffer>,
  stats64Type: number,
  statsType: number,
): Stats | undefined {
  const s64 = attrs.get(stats64Type);
  if (s64) return decodeStats64(s64);
  const s32 = attrs.get(statsType);
  return s32 ? decodeStats32(s32) : undefined;
}
