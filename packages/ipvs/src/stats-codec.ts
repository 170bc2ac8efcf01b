import { MalformedAttributeError, parseAttributes, readU32, readU64 } from './attributes';
import { NLA_TYPE_MASK, StatsAttr } from './constants';
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

/** All counters and rates zero: what a new service or destination reports. */
export const emptyStats = (): Stats => ({
  connections: 0n,
  packetsIn: 0n,
  packetsOut: 0n,
  bytesIn: 0n,
  bytesOut: 0n,
  cps: 0n,
  ppsIn: 0n,
  ppsOut: 0n,
  bpsIn: 0n,
  bpsOut: 0n,
});
const namesByType: (keyof Stats | undefined)[] = [];
for (const [name, type] of fields) namesByType[type] = name;

/**
 * IPVS_*_ATTR_STATS64: every counter and rate is a u64. Read in place (no per-attribute views):
 * a full dump decodes one of these per service and per destination.
 */
export function decodeStats64(buf: Buffer): Stats {
  const out = emptyStats();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) {
      throw new MalformedAttributeError(
        'stats64',
        off,
        `attribute length ${len} overruns ${buf.length - off} bytes`,
      );
    }
    const name = namesByType[buf.readUInt16LE(off + 2) & NLA_TYPE_MASK];
    if (name !== undefined) {
      if (len < 12)
        throw new MalformedAttributeError(`stats64.${name}`, off, `expected 8 bytes, got ${len - 4}`);
      out[name] = buf.readBigUInt64LE(off + 4);
    }
    off += (len + 3) & ~3;
  }
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
export function decodeStats(s64: Buffer | undefined, s32: Buffer | undefined): Stats | undefined {
  if (s64) return decodeStats64(s64);
  return s32 ? decodeStats32(s32) : undefined;
}
