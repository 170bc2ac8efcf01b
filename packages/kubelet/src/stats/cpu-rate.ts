/**
 * Turns cumulative CPU time into usageNanoCores the way upstream's CRI stats provider does when
 * the runtime leaves it out: the change since the previous sample of the same object, divided by
 * the time between them. The first sample of an object has no rate.
 */
export class CpuRateTracker {
  private readonly last = new Map<string, { usage: number; atNs: number }>();

  /** usage: cumulative ns of CPU; atNs: sample time in ns. */
  rate(key: string, usage: number, atNs: number): number | undefined {
    const previous = this.last.get(key);
    if (!previous || atNs > previous.atNs) this.last.set(key, { usage, atNs });
    if (!previous || atNs <= previous.atNs || usage < previous.usage) return undefined;
    return Math.round(((usage - previous.usage) / (atNs - previous.atNs)) * 1e9);
  }

  /** Drops objects not seen in the latest round, so the map does not grow with churn. */
  retain(keys: Set<string>): void {
    for (const key of this.last.keys()) if (!keys.has(key)) this.last.delete(key);
  }
}
