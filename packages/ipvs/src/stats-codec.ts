import {
  attributeTable,
  forEachAttribute,
  NetlinkFormatError,
  NLA_TYPE_MASK,
  readU32,
  readU64,
} from '@nodeagent/primitives/netlink';
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
const maxStatsType = namesByType.length - 1;

/**
 * IPVS_*_ATTR_STATS64: every counter and rate is a u64. Read in place (no per-attribute views):
 * a full dump decodes one of these per service and per destination.
 */
export function decodeStats64(buf: Buffer): Stats {
  const out = emptyStats();
  forEachAttribute(
    buf,
    (rawType, start, end) => {
      const name = namesByType[rawType & NLA_TYPE_MASK];
      if (name === undefined) return;
      if (end - start < 8)
        throw new NetlinkFormatError(
          `stats64.${name}`,
          end - start,
          'bytes is too short for a u64 (8 bytes)',
        );
      out[name] = buf.readBigUInt64LE(start);
    },
    'stats64',
  );
  return out;
}

/** IPVS_*_ATTR_STATS (older kernels): byte counters u64, everything else u32. */
export function decodeStats32(buf: Buffer): Stats {
  const attrs = attributeTable(buf, maxStatsType, 'stats');
  const out = {} as Stats;
  for (const [name, type] of fields) {
    const wide = type === StatsAttr.INBYTES || type === StatsAttr.OUTBYTES;
    const v = wide ? readU64(attrs[type], `stats.${name}`) : readU32(attrs[type], `stats.${name}`);
    out[name] = BigInt(v ?? 0);
  }
  return out;
}

/** Prefer the 64-bit block; fall back to the 32-bit one. */
export function decodeStats(s64: Buffer | undefined, s32: Buffer | undefined): Stats | undefined {
  if (s64) return decodeStats64(s64);
  return s32 ? decodeStats32(s32) : undefined;
}
