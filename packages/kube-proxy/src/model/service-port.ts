import type { V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type IPFamily, ipFamilyOf } from './ip-family';

/** A Service port's protocol, as in ServicePort.protocol. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** Identifies one port of one Service, as upstream's proxy.ServicePortName. */
export interface ServicePortName {
  readonly namespace: string;
  readonly name: string;
  /** The port's name ('' for a single unnamed port). */
  readonly port: string;
  readonly protocol: Protocol;
}

/** Upstream's String() form: "ns/name:port", or "ns/name" when the port is unnamed. */
export function servicePortKey(namespace: string, name: string, port: string): string {
  // Array.join: a flat string, not a cons string holding its pieces (kept for every port).
  return port === '' ? [namespace, '/', name].join('') : [namespace, '/', name, ':', port].join('');
}

/** What the proxier needs to know about one Service port, for one IP family. Immutable. */
export interface ServicePort {
  readonly name: ServicePortName;
  /** servicePortKey(...) of `name`; also the key into the endpoints map. */
  readonly key: string;
  /** "ns/name" of the owning Service. */
  readonly service: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** 0 when the Service has no node port. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  readonly loadBalancerVIPs: readonly string[];
  readonly loadBalancerSourceRanges: readonly string[];
  /** ClientIP affinity timeout in seconds; 0 means no session affinity. */
  readonly stickyMaxAgeSeconds: number;
  /** 0 unless the Service is LoadBalancer with externalTrafficPolicy Local. */
  readonly healthCheckNodePort: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
  readonly trafficDistribution: string;
}

/** ClientIP session affinity timeout when `sessionAffinityConfig.clientIP.timeoutSeconds` is unset: 3 h, as upstream. */
export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

/** Reachable from outside the cluster network: node port, LB VIPs or external IPs. */
export function externallyAccessible(sp: ServicePort): boolean {
  return sp.nodePort !== 0 || sp.loadBalancerVIPs.length > 0 || sp.externalIPs.length > 0;
}

/** Cluster endpoints are needed for iTP=Cluster, and for any externally reachable port (short-circuiting). */
export function usesClusterEndpoints(sp: ServicePort): boolean {
  return !sp.internalPolicyLocal || externallyAccessible(sp);
}

/** Local endpoints are needed for iTP=Local, and for eTP=Local on an externally reachable port. */
export function usesLocalEndpoints(sp: ServicePort): boolean {
  return sp.internalPolicyLocal || (sp.externalPolicyLocal && externallyAccessible(sp));
}

/** ExternalName and headless Services get no rules. */
export function shouldSkipService(svc: Wire<V1Service>): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return svc.spec?.type === 'ExternalName' || ip === '' || ip === 'None';
}

function serviceExternallyAccessible(svc: Wire<V1Service>): boolean {
  const t = svc.spec?.type ?? 'ClusterIP';
  return (
    t === 'LoadBalancer' ||
    t === 'NodePort' ||
    (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0)
  );
}

/** Shared by every port without external IPs, VIPs or source ranges: three arrays per port add up at 44k. */
const NONE: readonly string[] = Object.freeze([]);

/**
 * The addresses of `family` in `ips`, frozen once per Service and shared by its ports; the
 * shared empty list for most Services. A module function, not a closure per Service: the
 * bundle names every named closure as it is made (esbuild's keepNames, a defineProperty each;
 * ~29 ms of the 1M-endpoint start's 20,000 Services).
 */
function ofFamily(ips: readonly string[] | undefined, family: IPFamily): readonly string[] {
  return ips?.length ? Object.freeze(ips.filter((ip) => ipFamilyOf(ip) === family)) : NONE;
}

function clusterIPForFamily(svc: Wire<V1Service>, family: IPFamily): string {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? ''];
  return ips.find((ip) => ipFamilyOf(ip) === family) ?? '';
}

/**
 * The Service's ports for one IP family, keyed by servicePortKey.
 * Empty when the Service is skipped or has no cluster IP of this family.
 */
export function servicePortsFromService(
  svc: Wire<V1Service> | undefined,
  family: IPFamily,
): Map<string, ServicePort> {
  const out = new Map<string, ServicePort>();
  if (!svc || shouldSkipService(svc)) return out;
  const clusterIP = clusterIPForFamily(svc, family);
  if (clusterIP === '') return out;
  const spec = svc.spec!;
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const externalIPs = ofFamily(spec.externalIPs, family);
  const isLB = spec.type === 'LoadBalancer';
  // Ingress IPs with ipMode Proxy are handled by the load balancer itself, not programmed on nodes.
  const loadBalancerVIPs = isLB
    ? ofFamily(
        (svc.status?.loadBalancer?.ingress ?? [])
          .filter((ing) => ing.ip && ing.ipMode !== 'Proxy')
          .map((ing) => ing.ip!),
        family,
      )
    : NONE;
  const loadBalancerSourceRanges = isLB
    ? ofFamily((spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(Boolean), family)
    : NONE;
  const stickyMaxAgeSeconds =
    spec.sessionAffinity === 'ClientIP'
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS)
      : 0;
  const externalPolicyLocal = serviceExternallyAccessible(svc) && spec.externalTrafficPolicy === 'Local';
  const healthCheckNodePort = isLB && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  const service = `${namespace}/${name}`;

  for (const p of spec.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP') as Protocol;
    const portName = p.name ?? '';
    const key = servicePortKey(namespace, name, portName);
    out.set(
      key,
      Object.freeze({
        name: Object.freeze({ namespace, name, port: portName, protocol }),
        key,
        service,
        clusterIP,
        port: p.port,
        protocol,
        nodePort: spec.type === 'NodePort' || isLB ? (p.nodePort ?? 0) : 0,
        externalIPs,
        loadBalancerVIPs,
        loadBalancerSourceRanges,
        stickyMaxAgeSeconds,
        healthCheckNodePort,
        externalPolicyLocal,
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        trafficDistribution: spec.trafficDistribution ?? '',
      }),
    );
  }
  return out;
}

/** Structural equality of two service ports (used to drop no-op changes). */
export function servicePortsEqual(a: ServicePort, b: ServicePort): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
