/**
 * Metric stability levels in HELP text, as Kubernetes' k8s.io/component-base/metrics writes them
 * (opts.go `annotateStabilityLevel` and `markDeprecated`): a metric registered through
 * component-base has its HELP prefixed with `[LEVEL] `, and a deprecated one also with
 * `(Deprecated since X.Y.Z) ` after the level (markDeprecated runs first, then the level goes in
 * front: component-base's counter_test.go expects `[ALPHA] (Deprecated since 1.15.0) counter
 * help`). Collectors registered raw (client_golang's go_* and process_*, cAdvisor's container_*)
 * have no prefix.
 */

/** A component-base stability level, written as `[LEVEL]` at the start of a metric's HELP. */
export type StabilityLevel = 'INTERNAL' | 'ALPHA' | 'BETA' | 'STABLE';

/** A metric's stability: its level, or its level and the release that deprecated it (`1.29.0`). */
export type MetricStability = StabilityLevel | { level: StabilityLevel; deprecatedVersion: string };

/** Metric name → stability, for the metrics a component registers through component-base. */
export type MetricStabilityTable = Readonly<Record<string, MetricStability>>;

const LEVEL_PREFIX = /^\[(INTERNAL|ALPHA|BETA|STABLE)\] /;

/** `help` as component-base writes it for `stability`: `[ALPHA] help`, `[ALPHA] (Deprecated since 1.29.0) help`. */
export function stabilityHelp(help: string, stability: MetricStability): string {
  if (typeof stability === 'string') return `[${stability}] ${help}`;
  return `[${stability.level}] (Deprecated since ${stability.deprecatedVersion}) ${help}`;
}

/**
 * Prometheus text exposition with the HELP line of every metric `table` names annotated as
 * component-base annotates it; other metrics (raw collectors) are left as they are, and so is a
 * HELP that already starts with a level (annotating twice is a no-op).
 */
export function annotateExpositionHelp(text: string, table: MetricStabilityTable): string {
  return text.replace(/^# HELP ([^ \n]+) ?([^\n]*)$/gm, (line, name: string, help: string) => {
    if (!Object.hasOwn(table, name) || LEVEL_PREFIX.test(help)) return line;
    return `# HELP ${name} ${stabilityHelp(help, table[name]!)}`;
  });
}

/** What {@link annotateRegistryHelp} wraps: prom-client's Registry text methods. */
export interface TextRegistry {
  /** The registry's whole exposition text. */
  metrics(): Promise<string>;
  /** One metric's exposition text. */
  getSingleMetricAsString(name: string): Promise<string>;
}

/**
 * Makes `registry`'s text output (`metrics()`, `getSingleMetricAsString()`) carry `table`'s
 * stability levels in HELP, whoever registers the metrics on it, as component-base does for every
 * metric registered through it. Changes `registry` in place and returns it; wrapping one registry
 * again (another table) adds that table's levels only to metrics not yet annotated.
 */
export function annotateRegistryHelp<R extends TextRegistry>(registry: R, table: MetricStabilityTable): R {
  const metrics = registry.metrics.bind(registry);
  const single = registry.getSingleMetricAsString.bind(registry);
  registry.metrics = async () => annotateExpositionHelp(await metrics(), table);
  registry.getSingleMetricAsString = async (name: string) =>
    annotateExpositionHelp(await single(name), table);
  return registry;
}
