import { InvalidFieldError } from '../errors';

/**
 * Decides "did this packet come from a local pod?" as iptables match arguments, for the
 * configured detectLocalMode. Not implemented (no mode/CIDR) means the masquerade rules
 * that depend on it are left out, as upstream.
 */
export interface LocalDetector {
  readonly implemented: boolean;
  /** Match arguments for traffic from local pods. */
  readonly ifLocal: readonly string[];
  /** Match arguments for traffic not from local pods. */
  readonly ifNotLocal: readonly string[];
}

/** The detector when none is configured (no clusterCIDR, no pod CIDR): rules that need one are left out. */
export const NO_LOCAL_DETECTOR: LocalDetector = { implemented: false, ifLocal: [], ifNotLocal: [] };

/** detectLocalMode ClusterCIDR / NodeCIDR: traffic with a source address in `cidr` is local. */
export function cidrLocalDetector(cidr: string): LocalDetector {
  return { implemented: true, ifLocal: ['-s', cidr], ifNotLocal: ['!', '-s', cidr] };
}

/**
 * detectLocalMode BridgeInterface: traffic arriving on bridge `bridge` is local. Throws
 * InvalidFieldError (detectLocal.bridgeInterface) for an empty name.
 */
export function bridgeLocalDetector(bridge: string): LocalDetector {
  if (bridge === '') throw new InvalidFieldError('detectLocal.bridgeInterface', bridge, 'must not be empty');
  return { implemented: true, ifLocal: ['-i', bridge], ifNotLocal: ['!', '-i', bridge] };
}

/**
 * detectLocalMode InterfaceNamePrefix: traffic arriving on an interface whose name starts with
 * `prefix` (e.g. `veth`) is local. Throws InvalidFieldError (detectLocal.interfaceNamePrefix) for an empty prefix.
 */
export function interfacePrefixLocalDetector(prefix: string): LocalDetector {
  if (prefix === '')
    throw new InvalidFieldError('detectLocal.interfaceNamePrefix', prefix, 'must not be empty');
  return { implemented: true, ifLocal: ['-i', `${prefix}+`], ifNotLocal: ['!', '-i', `${prefix}+`] };
}
