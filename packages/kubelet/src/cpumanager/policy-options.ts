/** Upstream's static policy option names by maturity (pkg/kubelet/cm/cpumanager/policy_options.go). */
const alphaOptions = ['align-by-socket', 'distribute-cpus-across-cores'];
const betaOptions = [
  'strict-cpu-reservation',
  'distribute-cpus-across-numa',
  'prefer-align-cpus-by-uncorecache',
];
const stableOptions = ['full-pcpus-only'];

/** The options this kubelet's static policy applies; the others upstream accepts are warned about. */
export const implementedPolicyOptions: readonly string[] = ['full-pcpus-only'];

/** The parsed cpuManagerPolicyOptions this kubelet acts on. */
export interface StaticPolicyOptions {
  /** full-pcpus-only: exclusive CPUs only in whole physical cores (SMTAlignmentError otherwise). */
  fullPhysicalCpusOnly: boolean;
  /** Options upstream accepts and sets true that this kubelet does not implement, for a warning. */
  ignored: string[];
}

/** Go's strconv.ParseBool. */
function parseBool(name: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(
    `bad value for option ${JSON.stringify(name)}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
  );
}

/** Upstream CheckPolicyOptionAvailable: unknown names, and alpha/beta ones without their gate. */
function checkAvailable(name: string, gates: { alpha: boolean; beta: boolean }): void {
  if (![...alphaOptions, ...betaOptions, ...stableOptions].includes(name))
    throw new Error(`unknown CPU Manager Policy option: ${JSON.stringify(name)}`);
  if (alphaOptions.includes(name) && !gates.alpha)
    throw new Error(
      `CPU Manager Policy Alpha-level Options not enabled, but option ${JSON.stringify(name)} provided`,
    );
  if (betaOptions.includes(name) && !gates.beta)
    throw new Error(
      `CPU Manager Policy Beta-level Options not enabled, but option ${JSON.stringify(name)} provided`,
    );
}

/** The pairs upstream refuses together, in its order. */
const exclusivePairs: [string, string][] = [
  ['full-pcpus-only', 'distribute-cpus-across-cores'],
  ['distribute-cpus-across-numa', 'distribute-cpus-across-cores'],
  ['prefer-align-cpus-by-uncorecache', 'distribute-cpus-across-cores'],
  ['prefer-align-cpus-by-uncorecache', 'distribute-cpus-across-numa'],
];

/**
 * Upstream NewStaticPolicyOptions, with its error texts. Go ranges over the map in random
 * order; this checks the names in the order given.
 */
export function parseStaticPolicyOptions(
  options: Readonly<Record<string, string>>,
  gates: { alpha: boolean; beta: boolean },
): StaticPolicyOptions {
  const enabled = new Set<string>();
  for (const [name, value] of Object.entries(options)) {
    checkAvailable(name, gates);
    if (parseBool(name, value)) enabled.add(name);
  }
  for (const [a, b] of exclusivePairs)
    if (enabled.has(a) && enabled.has(b))
      throw new Error(`static policy options ${a} and ${b} can not be used at the same time`);
  return {
    fullPhysicalCpusOnly: enabled.has('full-pcpus-only'),
    ignored: [...enabled].filter((name) => !implementedPolicyOptions.includes(name)),
  };
}
