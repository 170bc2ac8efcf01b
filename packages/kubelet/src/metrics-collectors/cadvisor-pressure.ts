import type { CPUStats, IOStats, MemoryStats } from '../stats/summary-types';
import type { MetricDesc, MetricFamily, Sample } from './exposition-text';

/**
 * cAdvisor's PressureMetrics (google/cadvisor v0.56.2, the version v1.36 vendors,
 * metrics/prometheus.go NewPrometheusCollector): six counters per cgroup, the `full` ("stalled")
 * and `some` ("waiting") totals of cpu, memory and io.pressure, microseconds as seconds.
 */
const descs: readonly (MetricDesc & { pick: (row: PressureRow) => number | undefined })[] = [
  pressure('cpu', 'CPU', 'stalled', (row) => row.cpu?.psi?.full.total),
  pressure('cpu', 'CPU', 'waiting', (row) => row.cpu?.psi?.some.total),
  pressure('memory', 'memory', 'stalled', (row) => row.memory?.psi?.full.total),
  pressure('memory', 'memory', 'waiting', (row) => row.memory?.psi?.some.total),
  pressure('io', 'IO', 'stalled', (row) => row.io?.psi?.full.total),
  pressure('io', 'IO', 'waiting', (row) => row.io?.psi?.some.total),
];

function pressure(
  resource: string,
  what: string,
  kind: 'stalled' | 'waiting',
  pick: (row: PressureRow) => number | undefined,
) {
  const help =
    kind === 'stalled'
      ? `Total time duration no tasks in the container could make progress due to ${what} congestion.`
      : `Total time duration tasks in the container have waited due to ${what} congestion.`;
  return {
    name: `container_pressure_${resource}_${kind}_seconds_total`,
    help,
    type: 'counter' as const,
    pick,
  };
}

/** One cgroup's row: its labels and the stats that carry its pressure. */
export interface PressureRow {
  labels: Record<string, string>;
  cpu?: CPUStats;
  memory?: MemoryStats;
  io?: IOStats;
}

/**
 * The six families for `rows`. A row with no stats at all gets none (cAdvisor skips a container
 * without stats); every other row gets all six, stamped with its stats' time, a resource without
 * pressure figures reading 0, as cAdvisor's zero PSI struct does (a cgroup v1 host, a cgroup
 * whose pressure files could not be read).
 */
export function pressureFamilies(rows: readonly PressureRow[]): MetricFamily[] {
  return descs.map(({ pick, ...desc }) => ({
    desc,
    samples: rows.flatMap((row): Sample[] => {
      const time = row.cpu?.time ?? row.memory?.time ?? row.io?.time;
      if (time === undefined) return [];
      const micros = pick(row) ?? 0;
      return [{ labels: row.labels, value: micros / 1e6, timestampMs: Date.parse(time) }];
    }),
  }));
}
