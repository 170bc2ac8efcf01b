// `@nodeagent/kube-proxy/nftables`: the nftables mode.
export {
  type ExplainedEndpointChain,
  type ExplainedServiceChain,
  formatServiceExplanation,
  type ServiceExplanation,
} from '../shared/service-explanation';
export {
  buildNftablesRuleset,
  NFTABLES_TABLE,
  type NftablesBackendOptions,
  type NftablesBuildResult,
  type NftLocalDetector,
  nftLocalDetector,
} from './build-nftables-ruleset';
export { type DefaultNftablesOptions, defaultNftables } from './default-nftables';
export {
  deleteNftablesTables,
  type ExecNftablesOptions,
  execNftables,
  type ProxierNftables,
} from './exec-nftables';
export { explainNftablesService } from './explain-nftables-service';
export {
  fitsOneLine,
  NftSession,
  NftSessionError,
  type NftSessionOptions,
} from './nft-session';
export { nftablesOptionsFromConfig } from './nftables-options-from-config';
export { NftablesProxier, type NftablesProxierOptions } from './nftables-proxier';
export { NftablesRuleset } from './nftables-ruleset';
