import { KubeletError } from '../errors';

/** A node statistics source (a /proc file, statfs) that could not be read or parsed. */
export class StatsSourceError extends KubeletError {
  constructor(source: string, value: unknown, reason: string) {
    super('STATS_SOURCE', source, value, reason);
  }
}
