/** Upstream's defaultMaxAllowableNUMANodes: more NUMA nodes than this make the hint permutations too many. */
export const defaultMaxAllowableNumaNodes = 8;

/** topologyManagerPolicyOptions parsed (upstream PolicyOptions). */
export interface TopologyPolicyOptions {
  /** prefer-closest-numa-nodes: equal-size hints ranked by NUMA distance. */
  preferClosestNuma: boolean;
  /** max-allowable-numa-nodes: the most NUMA nodes a policy other than none starts on. */
  maxAllowableNumaNodes: number;
}

/** Upstream's option names; both are GA in v1.36, so no feature gate guards them. */
const stableOptions = ['prefer-closest-numa-nodes', 'max-allowable-numa-nodes'];

/** Go's strconv.ParseBool, with upstream's wrapping of its error. */
function parseBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(
    `bad value for option ${JSON.stringify(name)}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

/** Go's strconv.Atoi for the values a configuration holds, with upstream's wrapping of its error. */
function parseInteger(name: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value))
    throw new Error(
      `unable to convert policy option to integer ${JSON.stringify(name)}: strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  return Number(value);
}

/**
 * Upstream NewPolicyOptions with its error texts. Go ranges over the map in random order; this
 * checks the names in the order given. `onAboveDefault` hears a max-allowable-numa-nodes above
 * the default (upstream logs a warning and accepts it).
 */
export function parseTopologyPolicyOptions(
  options: Readonly<Record<string, string>>,
  onAboveDefault?: (value: number) => void,
): TopologyPolicyOptions {
  const parsed: TopologyPolicyOptions = {
    preferClosestNuma: false,
    maxAllowableNumaNodes: defaultMaxAllowableNumaNodes,
  };
  for (const [name, value] of Object.entries(options)) {
    if (!stableOptions.includes(name))
      throw new Error(`unknown Topology Manager Policy option: ${JSON.stringify(name)}`);
    if (name === 'prefer-closest-numa-nodes') {
      parsed.preferClosestNuma = parseBool(name, value);
      continue;
    }
    const max = parseInteger(name, value);
    if (max < defaultMaxAllowableNumaNodes)
      throw new Error(
        `the minimum value of ${JSON.stringify(name)} should not be less than ${defaultMaxAllowableNumaNodes}`,
      );
    if (max > defaultMaxAllowableNumaNodes) onAboveDefault?.(max);
    parsed.maxAllowableNumaNodes = max;
  }
  return parsed;
}
