import {
  type MetricStability,
  type StabilityLevel,
  stabilityHelp,
} from '@nodeagent/primitives/metric-stability';

/**
 * Prometheus text exposition (format 0.0.4) for metrics collected at scrape time, as the
 * kubelet's custom collectors emit them through component-base: HELP carries the stability
 * level (raw collectors such as cAdvisor's have none), samples may carry a millisecond timestamp, families sort by name and samples by labels.
 * (prom-client's registry has no per-sample timestamps, which /metrics/resource needs.)
 */

/** The Content-Type of {@link renderExposition}'s text (Prometheus text format 0.0.4). */
export const textContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** A metric's stability level in component-base terms, shown as `[LEVEL]` at the start of its HELP. */
export type Stability = StabilityLevel;

/** A metric's name, HELP text, type and stability: what the HELP and TYPE lines say. */
export interface MetricDesc {
  /** The metric name, e.g. container_cpu_usage_seconds_total. */
  name: string;
  /** The HELP text, without the stability prefix. */
  help: string;
  /** The TYPE line's value. */
  type: 'counter' | 'gauge';
  /**
   * The level (and, for a deprecated metric, the release that deprecated it), written in front of
   * the HELP as component-base writes it. Left out for collectors registered raw (cAdvisor's),
   * whose HELP has no `[LEVEL]` prefix.
   */
  stability?: MetricStability;
}

/** One series' value at scrape time. */
export interface Sample {
  /** Label names to values; none for a metric without labels. */
  labels?: Record<string, string>;
  /** The value, written as client_golang writes floats. */
  value: number;
  /** Milliseconds since the epoch. */
  timestampMs?: number;
}

/** A metric and its samples for one scrape; a family without samples is not written. */
export interface MetricFamily {
  /** What the metric is. */
  desc: MetricDesc;
  /** Its series, in any order (rendering sorts them by labels). */
  samples: Sample[];
}

/** A float as client_golang writes it (strconv.AppendFloat(v, 'g', -1, 64)): 1.4065664e+07, 6197.005020909. */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string> | undefined): string {
  const names = Object.keys(labels ?? {}).sort();
  if (names.length === 0) return '';
  return `{${names.map((name) => `${name}="${escapeLabel(labels![name]!)}"`).join(',')}}`;
}

/** The exposition text; families without samples are left out, as Gather does. */
export function renderExposition(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of [...families].sort((a, b) => (a.desc.name < b.desc.name ? -1 : 1))) {
    if (family.samples.length === 0) continue;
    const { name, help, type, stability } = family.desc;
    const text = stability ? stabilityHelp(help, stability) : help;
    out += `# HELP ${name} ${escapeHelp(text)}\n# TYPE ${name} ${type}\n`;
    const lines = family.samples.map((sample) => {
      const stamp = sample.timestampMs !== undefined ? ` ${Math.floor(sample.timestampMs)}` : '';
      return { key: labelText(sample.labels), text: `${goFloat(sample.value)}${stamp}` };
    });
    lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const line of lines) out += `${name}${line.key} ${line.text}\n`;
  }
  return out;
}
