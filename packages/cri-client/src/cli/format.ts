/** Human output helpers for the nodeagent-cri CLI (crictl-like tables). */

/** JSON with bigint as decimal strings and bytes as UTF-8 text. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('utf8');
      }
      return v;
    },
    2,
  );
}

/** Left-aligned columns separated by three spaces, like crictl's tabwriter output. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** "3 seconds ago", "5 minutes ago", … from a nanosecond timestamp. */
export function age(createdAtNs: bigint, nowMs: number): string {
  const seconds = Math.max(0, Math.floor((nowMs - Number(createdAtNs / 1_000_000n)) / 1000));
  const units: Array<[number, string]> = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'Less than a second ago';
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 13);
}

/** 1.98MB style sizes (decimal units, as crictl prints). */
export function humanSize(bytes: bigint): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = Number(bytes);
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(2).replace(/\.?0+$/, '')}${units[i]}`;
}

/** `repo:tag` → [repo, tag]; digests and untagged names get `<none>`. */
export function splitRepoTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return [ref.slice(0, colon), ref.slice(colon + 1)];
  return [ref, '<none>'];
}

/** `k=v` selector pairs → record. */
export function parseLabels(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq > 0) out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
