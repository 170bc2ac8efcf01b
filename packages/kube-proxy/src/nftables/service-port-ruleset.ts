import {
  endpointAffinitySetName,
  endpointChainBase,
  endpointChainName,
  type NftContribution,
  type NftElementPacker,
  type NftRuleBody,
  nftServiceExternalChainName,
  nftServiceFirewallChainName,
  nftServiceLocalChainName,
  nftServicePortChainName,
  servicePortChainBase,
} from '@nodeagent/netfilter/nftables';
import type { CategorizedEndpoints } from '../model/categorize-endpoints';
import { cidrContains } from '../model/cidr';
import { CompactEndpoint } from '../model/compact-endpoint';
import type { EndpointInfo } from '../model/endpoint';
import {
  externallyAccessible,
  type ServicePort,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model/service-port';
import { ContributionBuilder } from './contribution-builder';
import { assignSlots, type EndpointSlots, NO_SLOTS } from './endpoint-slots';
import {
  CLUSTER_IPS_SET,
  ENDPOINT_HAIRPIN_SET,
  type EndpointSetKind,
  endpointMapName,
  endpointSelectChainName,
  externalChainName,
  externalLocalChainName,
  FIREWALL_IPS,
  MARK_MASQ,
  NO_ENDPOINT_NODEPORTS,
  NO_ENDPOINT_SERVICES,
  REJECT_CHAIN,
  SERVICE_IPS,
  SERVICE_NODEPORTS,
  type ServiceProtocol,
} from './nftables-names';
import type { NftFamilyContext } from './nftables-options';

export interface ServicePortRuleset {
  readonly contribution: NftContribution;
  /** eTP/iTP Local without local endpoints (the sync_proxy_rules_no_local_endpoints_total gauges). */
  readonly noLocalInternal: boolean;
  readonly noLocalExternal: boolean;
  /** Which endpoint sits in which endpoint-map slot: pass back in on the next rewrite. */
  readonly slots: EndpointSlots;
}

/** Where the dispatch maps send a Service port's traffic (verdicts, `goto <chain>`). */
interface Targets {
  internal?: string;
  external?: string;
  nodePort?: string;
}

/**
 * One Service port's share of the table. Without session affinity everything specific to the
 * Service is map elements: dispatch elements to shared per-endpoint-count chains and one endpoint
 * map element per (destination, slot), so an endpoint change is a few element adds/deletes.
 * With ClientIP affinity the port gets upstream's shape (service, local and external chains,
 * one chain and affinity set per endpoint), since affinity needs per-endpoint dynamic sets.
 * The elements come in the packed form of the table whose `packer` is given (ContributionBuilder).
 */
export function servicePortRuleset(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  ctx: NftFamilyContext,
  packer: NftElementPacker,
  previousSlots: EndpointSlots = NO_SLOTS,
): ServicePortRuleset {
  const b = new ContributionBuilder(packer);
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const hasEndpoints = cat.hasAnyEndpoints;
  const hasInternal = hasEndpoints && (!sp.internalPolicyLocal || cat.localEndpoints.length > 0);
  const hasExternal = hasEndpoints && (!sp.externalPolicyLocal || cat.localEndpoints.length > 0);
  // No endpoints at all: reject; endpoints but none local under a Local policy: drop.
  const internalVerdict = hasEndpoints ? 'drop' : `goto ${REJECT_CHAIN}`;
  const externalVerdict = internalVerdict;

  const sticky = sp.stickyMaxAgeSeconds > 0;
  const cluster =
    sticky || !usesClusterEndpoints(sp) ? [] : assignSlots(cat.clusterEndpoints, previousSlots.cluster);
  const local = sticky || !usesLocalEndpoints(sp) ? [] : assignSlots(cat.localEndpoints, previousSlots.local);
  const targets = sticky
    ? writeAffinityChains(sp, cat, ctx, b)
    : writeEndpointElements(sp, cat, cluster, local, ctx, b, packer);

  b.element(CLUSTER_IPS_SET, [sp.clusterIP]);
  if (hasInternal && targets.internal)
    b.element(SERVICE_IPS, [sp.clusterIP, proto, port], [targets.internal], sp.key);
  else if (!hasInternal)
    b.element(NO_ENDPOINT_SERVICES, [sp.clusterIP, proto, port], [internalVerdict], sp.key);

  for (const ip of sp.externalIPs) {
    if (hasEndpoints && targets.external)
      b.element(SERVICE_IPS, [ip, proto, port], [targets.external], sp.key);
    if (!hasExternal) b.element(NO_ENDPOINT_SERVICES, [ip, proto, port], [externalVerdict], sp.key);
  }

  const usesFirewall = sp.loadBalancerSourceRanges.length > 0 && sp.loadBalancerVIPs.length > 0;
  // Hashed names cost a SHA-256 each: only Services with source ranges need this one.
  const fwChain = usesFirewall
    ? nftServiceFirewallChainName(
        servicePortChainBase(sp.name.namespace, sp.name.name, sp.protocol, sp.name.port),
      )
    : '';
  if (usesFirewall) {
    const sources = [...sp.loadBalancerSourceRanges];
    const nodeIP = ctx.nodeIP;
    if (nodeIP && sp.loadBalancerSourceRanges.some((c) => cidrContains(c, nodeIP)))
      sources.push(...sp.loadBalancerVIPs);
    b.rule(fwChain, `${ctx.ipX} saddr != { ${sources.join(', ')} } drop`);
  }
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints && targets.external)
      b.element(SERVICE_IPS, [ip, proto, port], [targets.external], sp.key);
    if (usesFirewall) b.element(FIREWALL_IPS, [ip, proto, port], [`goto ${fwChain}`], sp.key);
  }
  if (!hasExternal)
    for (const ip of sp.loadBalancerVIPs)
      b.element(NO_ENDPOINT_SERVICES, [ip, proto, port], [externalVerdict], sp.key);

  if (sp.nodePort !== 0) {
    const np = String(sp.nodePort);
    if (hasEndpoints && targets.nodePort)
      b.element(SERVICE_NODEPORTS, [proto, np], [targets.nodePort], sp.key);
    if (!hasExternal) b.element(NO_ENDPOINT_NODEPORTS, [proto, np], [externalVerdict], sp.key);
  }
  return {
    contribution: b.build(),
    noLocalInternal: hasEndpoints && !hasInternal,
    noLocalExternal: hasEndpoints && !hasExternal,
    slots: { cluster: slotsOf(cluster), local: slotsOf(local) },
  };
}

/** The endpoints' slot order to keep; the shared empty list when there are none (local, usually). */
function slotsOf(eps: readonly EndpointInfo[]): readonly EndpointInfo[] {
  return eps.length === 0 ? NO_SLOTS.cluster : eps;
}

/** `TCP` → `tcp`: the nft spelling, which also picks the protocol's endpoint map and chains. */
function serviceProtocol(sp: ServicePort): ServiceProtocol {
  return sp.protocol.toLowerCase() as ServiceProtocol;
}

/** The shared chain DNATing to one of `count` endpoints through the endpoint map. */
function selectChain(
  b: ContributionBuilder,
  ctx: NftFamilyContext,
  kind: EndpointSetKind,
  nodePort: boolean,
  count: number,
  protocol: ServiceProtocol,
): string {
  const name = endpointSelectChainName(kind, nodePort, count, protocol);
  if (b.hasChain(name)) return name;
  let chain = ctx.shared.get(name);
  if (!chain) {
    const key = nodePort ? 'meta l4proto . th dport' : `${ctx.ipX} daddr . meta l4proto . th dport`;
    const map = endpointMapName(kind, nodePort, protocol);
    chain = ctx.shared.put(name, [
      { rule: `dnat ${ctx.ipX} to ${key} . numgen random mod ${count} map @${map}` },
    ]);
  }
  b.shared(chain);
  return name;
}

/** The shared chain for external traffic of Services with `cluster`/`local` endpoints. */
function externalChain(
  b: ContributionBuilder,
  ctx: NftFamilyContext,
  sp: ServicePort,
  nodePort: boolean,
  cluster: number,
  local: number,
): string | undefined {
  const protocol = serviceProtocol(sp);
  const toCluster = cluster > 0 ? selectChain(b, ctx, 'cluster', nodePort, cluster, protocol) : undefined;
  if (!sp.externalPolicyLocal) {
    if (!toCluster) return undefined;
    const name = externalChainName(nodePort, cluster, protocol);
    if (!b.hasChain(name))
      b.shared(
        ctx.shared.get(name) ??
          ctx.shared.put(name, [{ rule: `jump ${MARK_MASQ}` }, { rule: `goto ${toCluster}` }]),
      );
    return name;
  }
  const name = externalLocalChainName(nodePort, cluster, local, protocol);
  if (b.hasChain(name)) return name;
  // This chain, then the local selection it ends with (the order the table first lists them in).
  const toLocal = local > 0 ? endpointSelectChainName('local', nodePort, local, protocol) : undefined;
  b.shared(ctx.shared.get(name) ?? ctx.shared.put(name, externalLocalRules(ctx, toCluster, toLocal)));
  if (toLocal) selectChain(b, ctx, 'local', nodePort, local, protocol);
  return name;
}

/**
 * eTP=Local keeps the client address, except for traffic that would lose its reply path:
 * pods and the node itself go to any endpoint (masqueraded when from the node).
 */
function externalLocalRules(
  ctx: NftFamilyContext,
  toCluster: string | undefined,
  toLocal: string | undefined,
): NftRuleBody[] {
  const rules: NftRuleBody[] = [];
  if (toCluster && ctx.detector.ifLocal)
    rules.push({ rule: `${ctx.detector.ifLocal} goto ${toCluster}`, comment: 'short-circuit pod traffic' });
  rules.push({ rule: `fib saddr type local jump ${MARK_MASQ}`, comment: 'masquerade local traffic' });
  if (toCluster)
    rules.push({ rule: `fib saddr type local goto ${toCluster}`, comment: 'short-circuit local traffic' });
  if (toLocal) rules.push({ rule: `goto ${toLocal}` });
  return rules;
}

function endpointElements(
  packer: NftElementPacker,
  kind: EndpointSetKind,
  nodePort: boolean,
  protocol: ServiceProtocol,
  key: readonly string[],
  eps: readonly EndpointInfo[],
): void {
  const map = endpointMapName(kind, nodePort, protocol);
  // Address bits, port and slot go in as they are: no text made for them (issue #54).
  if (eps.length === 0) return;
  const prefix = packer.keyPrefix(map, key);
  for (let slot = 0; slot < eps.length; slot++) {
    const ep = eps[slot]!;
    packAddress(packer.keyFrom(prefix).number(slot).value(), ep).number(ep.port).end();
  }
}

/** The endpoint's address as the next part: its bits when the record keeps them. */
function packAddress(packer: NftElementPacker, ep: EndpointInfo): NftElementPacker {
  const bits = ep instanceof CompactEndpoint ? ep.ipv4Bits : undefined;
  return bits === undefined ? packer.part(ep.ip) : packer.ipv4(bits);
}

/** `cluster` and `local` are the endpoints in slot order (empty when the port does not use them). */
function writeEndpointElements(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  cluster: readonly EndpointInfo[],
  local: readonly EndpointInfo[],
  ctx: NftFamilyContext,
  b: ContributionBuilder,
  packer: NftElementPacker,
): Targets {
  if (!cat.hasAnyEndpoints) return {};
  const proto = serviceProtocol(sp);
  const port = String(sp.port);
  const targets: { internal?: string; external?: string; nodePort?: string } = {};

  const internalKind: EndpointSetKind = sp.internalPolicyLocal ? 'local' : 'cluster';
  const internalEps = sp.internalPolicyLocal ? local : cluster;
  if (internalEps.length > 0) {
    targets.internal = ctx.shared.goto(selectChain(b, ctx, internalKind, false, internalEps.length, proto));
    endpointElements(packer, internalKind, false, proto, [sp.clusterIP, proto, port], internalEps);
  }
  if (externallyAccessible(sp)) {
    const vips = [...sp.externalIPs, ...sp.loadBalancerVIPs];
    if (vips.length > 0) {
      const chain = externalChain(b, ctx, sp, false, cluster.length, local.length);
      if (chain) targets.external = ctx.shared.goto(chain);
      for (const ip of vips) {
        endpointElements(packer, 'cluster', false, proto, [ip, proto, port], cluster);
        if (sp.externalPolicyLocal) endpointElements(packer, 'local', false, proto, [ip, proto, port], local);
      }
    }
    if (sp.nodePort !== 0) {
      const chain = externalChain(b, ctx, sp, true, cluster.length, local.length);
      if (chain) targets.nodePort = ctx.shared.goto(chain);
      const key = [proto, String(sp.nodePort)];
      endpointElements(packer, 'cluster', true, proto, key, cluster);
      if (sp.externalPolicyLocal) endpointElements(packer, 'local', true, proto, key, local);
    }
  }
  for (const ep of cat.allReachableEndpoints)
    packAddress(packAddress(packer.key(ENDPOINT_HAIRPIN_SET), ep), ep).end();
  return targets;
}

/** Upstream's per-service and per-endpoint chains, for Services with ClientIP affinity. */
function writeAffinityChains(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  ctx: NftFamilyContext,
  b: ContributionBuilder,
): Targets {
  const { ipX } = ctx;
  const proto = sp.protocol.toLowerCase();
  const { namespace, name, port: portName } = sp.name;
  const base = servicePortChainBase(namespace, name, sp.protocol, portName);
  const clusterChain = nftServicePortChainName(base);
  const localChain = nftServiceLocalChainName(base);
  const externalChainName = nftServiceExternalChainName(base);
  const epBase = (ep: EndpointInfo) =>
    endpointChainBase(namespace, name, sp.protocol, portName, ep.ip, ep.port);
  if (!cat.hasAnyEndpoints) return {};

  const usesClusterChain = cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
  const usesLocalChain = cat.localEndpoints.length > 0 && usesLocalEndpoints(sp);
  const internalChain = sp.internalPolicyLocal ? localChain : clusterChain;
  const externalPolicyChain = sp.externalPolicyLocal ? localChain : clusterChain;
  const hasInternal = !sp.internalPolicyLocal || cat.localEndpoints.length > 0;
  const hasExternal = !sp.externalPolicyLocal || cat.localEndpoints.length > 0;
  const usesExternalChain = externallyAccessible(sp);

  for (const ep of cat.allReachableEndpoints) b.chain(endpointChainName(epBase(ep)));
  if (usesClusterChain) b.chain(clusterChain);
  if (usesLocalChain) b.chain(localChain);
  if (usesExternalChain) b.chain(externalChainName);

  if (hasInternal) {
    const m = `${ipX} daddr ${sp.clusterIP} ${proto} dport ${sp.port}`;
    if (ctx.masqueradeAll) b.rule(internalChain, `${m} jump ${MARK_MASQ}`);
    else if (ctx.detector.ifNotLocal)
      b.rule(internalChain, `${m} ${ctx.detector.ifNotLocal} jump ${MARK_MASQ}`);
  }
  if (usesExternalChain) {
    if (!sp.externalPolicyLocal) {
      b.rule(externalChainName, `jump ${MARK_MASQ}`);
    } else {
      if (ctx.detector.ifLocal)
        b.rule(
          externalChainName,
          `${ctx.detector.ifLocal} goto ${clusterChain}`,
          'short-circuit pod traffic',
        );
      b.rule(externalChainName, `fib saddr type local jump ${MARK_MASQ}`, 'masquerade local traffic');
      b.rule(externalChainName, `fib saddr type local goto ${clusterChain}`, 'short-circuit local traffic');
    }
    if (hasExternal) b.rule(externalChainName, `goto ${externalPolicyChain}`);
  }

  for (const ep of cat.allReachableEndpoints) {
    b.set({
      kind: 'set',
      name: endpointAffinitySetName(epBase(ep)),
      type: ctx.addrType,
      flags: ['dynamic', 'timeout'],
      timeout: `${sp.stickyMaxAgeSeconds}s`,
    });
  }
  const toEndpoints = (svcChain: string, eps: readonly EndpointInfo[]) => {
    for (const ep of eps) {
      b.rule(
        svcChain,
        `${ipX} saddr @${endpointAffinitySetName(epBase(ep))} goto ${endpointChainName(epBase(ep))}`,
      );
    }
    const vmap = eps.map((ep, i) => `${i} : goto ${endpointChainName(epBase(ep))}`).join(' , ');
    b.rule(svcChain, `numgen random mod ${eps.length} vmap { ${vmap} }`);
  };
  if (usesClusterChain) toEndpoints(clusterChain, cat.clusterEndpoints);
  if (usesLocalChain) toEndpoints(localChain, cat.localEndpoints);

  for (const ep of cat.allReachableEndpoints) {
    const c = endpointChainName(epBase(ep));
    b.rule(c, `${ipX} saddr ${ep.ip} jump ${MARK_MASQ}`);
    b.rule(c, `update @${endpointAffinitySetName(epBase(ep))} { ${ipX} saddr }`);
    b.rule(c, `meta l4proto ${proto} dnat to ${ep.endpoint}`);
  }
  return {
    internal: `goto ${internalChain}`,
    external: usesExternalChain ? `goto ${externalChainName}` : undefined,
    nodePort: usesExternalChain ? `goto ${externalChainName}` : undefined,
  };
}
