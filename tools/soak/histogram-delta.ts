/**
 * A Prometheus histogram between two scrapes of the same process: its cumulative buckets, sum and
 * count read from the exposition text, the difference of two readings, and a quantile estimated
 * as Prometheus's histogram_quantile does (linear within the bucket that holds it).
 */
export interface HistogramReading {
  /** Cumulative counts per upper bound (seconds), ascending; +Inf last. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

/** The histogram `name`'s series whose labels include `labels` (e.g. ip_family="IPv4"), or undefined. */
export function readHistogram(text: string, name: string, labels = ''): HistogramReading | undefined {
  const buckets: [number, number][] = [];
  let sum: number | undefined;
  let count: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (labels && !line.includes(labels))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const rest = line.slice(name.length);
    if (rest.startsWith('_bucket')) {
      const le = /le="([^"]+)"/.exec(rest)?.[1];
      if (le !== undefined) buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), value]);
    } else if (rest.startsWith('_sum')) sum = value;
    else if (rest.startsWith('_count')) count = value;
  }
  if (sum === undefined || count === undefined || buckets.length === 0) return undefined;
  buckets.sort((a, b) => a[0] - b[0]);
  return { buckets, sum, count };
}

/** later − earlier, bucket by bucket (earlier undefined: later as it is). */
export function histogramDelta(later: HistogramReading, earlier?: HistogramReading): HistogramReading {
  if (!earlier) return later;
  return {
    buckets: later.buckets.map(([le, c], i) => [le, c - (earlier.buckets[i]?.[1] ?? 0)]),
    sum: later.sum - earlier.sum,
    count: later.count - earlier.count,
  };
}

/** The q-quantile (0..1) in seconds; undefined with no observations. The +Inf bucket answers its lower bound. */
export function histogramQuantile(h: HistogramReading, q: number): number | undefined {
  if (h.count <= 0) return undefined;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, c] of h.buckets) {
    if (c >= rank) {
      if (!Number.isFinite(le)) return lower;
      const inBucket = c - below;
      return inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
    }
    lower = le;
    below = c;
  }
  return lower;
}
