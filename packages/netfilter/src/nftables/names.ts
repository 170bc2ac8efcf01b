import { sha256Base32 } from '../hash-names';
import { NFT_NAME_LENGTH_MAX } from './model';

// Chain names as upstream kube-proxy's nftables mode makes them: `<prefix>-` + HASH8 + `-` +
// name, where HASH8 is the first 8 chars of base32(SHA-256(name)); the part after the prefix is
// cut to fit with "..." appended (the hash keeps cut names unique).

/** Longest prefix upstream allows, including the trailing "-". */
export const CHAIN_NAME_PREFIX_LENGTH_MAX = 16;
/** The longest chain name base that still fits after the longest prefix. */
export const CHAIN_NAME_BASE_LENGTH_MAX = NFT_NAME_LENGTH_MAX - CHAIN_NAME_PREFIX_LENGTH_MAX;

/** `name` if it fits a chain name base, else a truncation ending in a hash of the whole. */
export function hashAndTruncate(name: string): string {
  const hashed = `${sha256Base32(name).slice(0, 8)}-${name}`;
  return hashed.length > CHAIN_NAME_BASE_LENGTH_MAX
    ? `${hashed.slice(0, CHAIN_NAME_BASE_LENGTH_MAX - 3)}...`
    : hashed;
}

/** `<prefix>-HASH8-name`, e.g. nftChainName('service', 'ns1/svc1/tcp/p80'). */
export function nftChainName(prefix: string, name: string): string {
  return `${prefix}-${hashAndTruncate(name)}`;
}

/** `ns/name/protocol/portName` — upstream's servicePortChainNameBase input. */
export function servicePortChainBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
): string {
  return `${namespace}/${name}/${protocol.toLowerCase()}/${portName}`;
}

/** `ns/name/protocol/portName__ip/port`, IPv6 colons turned into dots (colons are not allowed). */
export function endpointChainBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
  endpointIp: string,
  endpointPort: number,
): string {
  return `${servicePortChainBase(namespace, name, protocol, portName)}__${endpointIp.replaceAll(':', '.')}/${endpointPort}`;
}

/** kube-proxy's nftables chain of a service port. */
export const servicePortChainName = (base: string) => nftChainName('service', base);
/** kube-proxy's nftables chain of a service port's local endpoints. */
export const serviceLocalChainName = (base: string) => nftChainName('local', base);
/** kube-proxy's nftables chain for a service port's external traffic. */
export const serviceExternalChainName = (base: string) => nftChainName('external', base);
/** kube-proxy's nftables chain of a load balancer's source ranges. */
export const serviceFirewallChainName = (base: string) => nftChainName('firewall', base);
/** kube-proxy's nftables chain of one endpoint. */
export const endpointChainName = (base: string) => nftChainName('endpoint', base);
/** kube-proxy's nftables set of client IPs with affinity to one endpoint. */
export const endpointAffinitySetName = (base: string) => nftChainName('affinity', base);
