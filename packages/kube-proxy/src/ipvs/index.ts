// `@nodeagent/kube-proxy/ipvs`: the ipvs mode.

export { execSysctlLayer } from '../runtime/exec-sysctl-layer';
export { procSysctlLayer } from '../runtime/proc-sysctl-layer';
export type { AddressNotificationSocket } from './address-change-watch';
export {
  IpvsApplier,
  type IpvsApplierOptions,
  type IpvsApplyResult,
  type IpvsKernelLayers,
} from './apply-ipvs';
export { type CleanupIpvsOptions, type CleanupIpvsResult, cleanupIpvs } from './cleanup-ipvs';
export { execIpsetLayer, parseIpsetSave } from './exec-ipset-layer';
export { execLinkLayer, parseIpAddrShow } from './exec-link-layer';
export { formatIpvsTable, type LiveVirtualServer, readIpvsTable } from './explain-ipvs';
export {
  GracefulTermination,
  type GracefulTerminationOptions,
  type TerminatingRealServer,
} from './graceful-termination';
export {
  IPSET_DEFINITIONS,
  type IpsetDefinition,
  type IpsetType,
  ipsetCreateArgs,
  ipsetNameFor,
  ownedIpsetNames,
} from './ipset-definitions';
export { renderIpsetRestore } from './ipset-restore';
export {
  buildIpvsIptablesRules,
  IPVS_JUMP_RULES,
  type IpvsIptablesInput,
  type LbNoNodeAccess,
} from './ipvs-iptables-rules';
export type { IpsetLayer, IpsetState, IpvsIptables, IpvsTable, LinkLayer } from './ipvs-kernel';
export * as ipvsNames from './ipvs-names';
export { KUBE_IPVS_INTERFACE } from './ipvs-names';
export { ipvsOptionsFromConfig } from './ipvs-options-from-config';
export type {
  IpvsPlan,
  IpvsPlanCall,
  IpvsPlanDelta,
  IpvsPlanOptions,
  IpvsPlanStats,
  PlannedIpset,
  PlannedRealServer,
  PlannedVirtualServer,
} from './ipvs-plan';
export {
  type IpvsBackendOptions,
  IpvsProxier,
  type IpvsProxierOptions,
} from './ipvs-proxier';
export { type ClosableIpvsTable, isIpvsUnavailable, openIpvsTable } from './open-ipvs-table';
export { formatIpvsPlan, IpvsPlanner, planIpvs } from './plan-ipvs';
export { rtnetlinkLinkLayer } from './rtnetlink-link-layer';
export { canonicalIP, realServerKey, virtualServerKey } from './virtual-server-key';
