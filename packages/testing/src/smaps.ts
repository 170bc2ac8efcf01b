// /proc/<pid>/smaps: one header line per mapping (`start-end perms offset dev inode [name]`),
// then `Field:  <n> kB` lines about it. The memory readers fold it in different ways (resident
// pages per file, anonymous pages per kind of mapping); this walks it once for any of them.

/** One mapping of /proc/<pid>/smaps: its header's fields and one of its `kB` fields. */
export interface SmapsMapping {
  start: bigint;
  end: bigint;
  /** `rw-p`, `r-xp`, …. */
  perms: string;
  /** Offset into the file, as smaps prints it (hex, no `0x`). */
  offset: string;
  /** The file's path, `[heap]`, `[stack]`…, or empty for an anonymous mapping. */
  name: string;
  /** The asked field (`Rss`, `Anonymous`…) in bytes; 0 where smaps has no such line. */
  bytes: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) \S+ \d+\s*(.*)$/;

/** Every mapping of smaps text with the value of its `field` line (`Rss`, `Anonymous`, `Pss`…). */
export function smapsMappings(smaps: string, field: string): SmapsMapping[] {
  const out: SmapsMapping[] = [];
  const prefix = `${field}:`;
  for (const line of smaps.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      const [, start, end, perms, offset, name] = header as unknown as string[];
      out.push({
        start: BigInt(`0x${start}`),
        end: BigInt(`0x${end}`),
        perms: perms as string,
        offset: offset as string,
        name: (name as string).trim(),
        bytes: 0,
      });
      continue;
    }
    const current = out.at(-1);
    if (current && line.startsWith(prefix))
      current.bytes += Number.parseInt(line.slice(prefix.length), 10) * 1024;
  }
  return out;
}
