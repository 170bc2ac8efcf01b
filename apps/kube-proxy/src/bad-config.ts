import {
  type IPFamily,
  ipFamilyOf,
  type KubeProxyConfiguration,
  KubeProxyError,
} from '@nodeagent/kube-proxy';
import { goAggregateText } from '@nodeagent/primitives/go-text';

/** upstream's message for checkBadConfig/checkBadIPConfig findings, logged at error level. */
export const BAD_CONFIG_MESSAGE = 'Kube-proxy configuration may be incomplete or incorrect';

/** checkBadIPConfig's fatal case: a family mismatch upstream has always refused. */
export class IncorrectConfigurationError extends KubeProxyError {
  constructor(problems: readonly string[]) {
    super('INCORRECT_CONFIGURATION', `kube-proxy configuration is incorrect: ${goAggregateText(problems)}`);
  }
}

const other = (f: IPFamily): IPFamily => (f === 'IPv4' ? 'IPv6' : 'IPv4');
const familyOfCidr = (cidr: string): IPFamily | undefined => ipFamilyOf(cidr.split('/')[0]!.trim());
/** A non-empty list whose every CIDR is of `family`. */
const allOf = (cidrs: readonly string[], family: IPFamily) =>
  cidrs.length > 0 && cidrs.every((c) => familyOfCidr(c) === family);

/**
 * What upstream's newProxyServer checks once the families are known (checkBadConfig and
 * checkBadIPConfig): `warnings` are logged as one error line, `fatal` ones stop the start.
 */
export function badConfig(
  c: KubeProxyConfiguration,
  primary: IPFamily,
  dualStack: boolean,
  podCIDRs: readonly string[] = [],
): { warnings: string[]; fatal: string[] } {
  const warnings: string[] = [];
  const clusterCIDRs = c.clusterCIDR === '' ? [] : c.clusterCIDR.split(',').map((s) => s.trim());
  const nodePorts = c.nodePortAddresses ?? [];
  const isDual = (l: readonly string[]) => {
    const fams = new Set(l.map(familyOfCidr).filter(Boolean));
    return fams.size === 2;
  };
  const anyDual = [clusterCIDRs, nodePorts, c.ipvs.excludeCIDRs ?? [], podCIDRs].some(isDual);
  const primaryCidrs = nodePorts.filter((n) => familyOfCidr(n) === primary);
  if (nodePorts.length === 0) {
    warnings.push(
      'nodePortAddresses is unset; NodePort connections will be accepted on all local IPs. Consider using `--nodeport-addresses primary`',
    );
  } else if (!nodePorts.includes('primary')) {
    if (anyDual && primaryCidrs.length === nodePorts.length) {
      warnings.push(
        `cluster appears to be dual-stack but nodePortAddresses contains only ${primary} addresses; NodePort connections will be accepted on all local ${other(primary)} IPs`,
      );
    } else if (primaryCidrs.length === 0) {
      warnings.push(
        `cluster appears to be ${primary}-primary but nodePortAddresses contains only ${other(primary)} addresses; NodePort connections will be accepted on all local ${primary} IPs`,
      );
    }
  }

  const bad = other(primary);
  const badV = bad === 'IPv4' ? '4' : '6';
  const clusterType = `${primary}-${dualStack ? 'primary' : 'only'}`;
  const ipProblems: string[] = [];
  let fatal = false;
  if (allOf(clusterCIDRs, bad)) {
    ipProblems.push(`cluster is ${clusterType} but clusterCIDRs contains only IPv${badV} addresses`);
    if (c.detectLocalMode === 'ClusterCIDR' && !dualStack) fatal = true;
  }
  if (allOf(podCIDRs, bad)) {
    ipProblems.push(`cluster is ${clusterType} but node.spec.podCIDRs contains only IPv${badV} addresses`);
    if (c.detectLocalMode === 'NodeCIDR') fatal = true;
  }
  if (!dualStack && allOf(c.ipvs.excludeCIDRs ?? [], bad)) {
    ipProblems.push(`cluster is ${clusterType} but ipvs.excludeCIDRs contains only IPv${badV} addresses`);
  }
  return fatal ? { warnings, fatal: ipProblems } : { warnings: [...warnings, ...ipProblems], fatal: [] };
}
