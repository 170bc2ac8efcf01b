import type { DNSConfig } from '@nodeagent/cri-client/types';
import type { Pod } from '../api/pod-types';

// Upstream's limits for the resolv.conf a pod gets (pkg/apis/core/validation MaxDNSSearchPaths etc.).
/** At most this many search domains reach a pod's resolv.conf; later ones are dropped. */
export const maxDNSSearchPaths = 32;
/** Search domains are kept only while the search line (domains joined by spaces) fits in this many characters. */
export const maxDNSSearchListChars = 2048;
/** At most this many nameservers reach a pod's resolv.conf; later ones are dropped. */
export const maxDNSNameservers = 3;

/** The node-level DNS settings a pod's resolv.conf is built from (see podDNSConfig). */
export interface ClusterDNSOptions {
  /** KubeletConfiguration.clusterDNS. */
  clusterDNS: string[];
  /** KubeletConfiguration.clusterDomain. */
  clusterDomain: string;
  /** The node's resolv.conf contents (KubeletConfiguration.resolvConf), for dnsPolicy Default. */
  hostResolvConf?: string;
}

/** Parses resolv.conf into nameservers, search domains and options, as glibc reads it. */
export function parseResolvConf(text: string): DNSConfig {
  const config: DNSConfig = { servers: [], searches: [], options: [] };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [keyword, ...fields] = line.split(/\s+/);
    if (keyword === 'nameserver' && fields[0]) config.servers.push(fields[0]);
    // The last search/domain line wins, like the resolver.
    if (keyword === 'search' || keyword === 'domain') config.searches = fields.filter((f) => f !== '.');
    if (keyword === 'options') config.options.push(...fields);
  }
  return config;
}

/**
 * The DNS config for a pod's sandbox (upstream pkg/kubelet/network/dns GetPodDNS): ClusterFirst
 * uses the cluster DNS with the namespace search path and ndots:5, Default the node's resolver,
 * None only the pod's dnsConfig, which is merged on top in every case.
 */
export function podDNSConfig(pod: Pod, options: ClusterDNSOptions): DNSConfig {
  const host = parseResolvConf(options.hostResolvConf ?? '');
  let policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && pod.spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && options.clusterDNS.length === 0) {
    // Upstream falls back to the node's resolver when no cluster DNS is configured.
    policy = 'Default';
  }
  let config: DNSConfig;
  switch (policy) {
    case 'None':
      config = { servers: [], searches: [], options: [] };
      break;
    case 'Default':
      config = { servers: [...host.servers], searches: [...host.searches], options: [...host.options] };
      break;
    default: {
      const namespace = pod.metadata.namespace ?? 'default';
      const domain = options.clusterDomain;
      const searches = domain ? [`${namespace}.svc.${domain}`, `svc.${domain}`, domain] : [];
      config = {
        servers: [...options.clusterDNS],
        searches: [...searches, ...host.searches],
        options: ['ndots:5'],
      };
    }
  }
  const extra = pod.spec.dnsConfig;
  if (extra) {
    config.servers = unique([...config.servers, ...(extra.nameservers ?? [])]);
    config.searches = unique([...config.searches, ...(extra.searches ?? [])]);
    config.options = mergeOptions(config.options, extra.options ?? []);
  }
  config.servers = config.servers.slice(0, maxDNSNameservers);
  config.searches = trimSearches(unique(config.searches));
  return config;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const merged = new Map<string, string>();
  for (const option of base) merged.set(option.split(':')[0]!, option);
  for (const option of extra) {
    merged.set(
      option.name,
      option.value !== undefined && option.value !== '' ? `${option.name}:${option.value}` : option.name,
    );
  }
  return [...merged.values()];
}

function trimSearches(searches: string[]): string[] {
  const out: string[] = [];
  let chars = 0;
  for (const search of searches) {
    if (out.length >= maxDNSSearchPaths) break;
    const cost = search.length + (out.length > 0 ? 1 : 0);
    if (chars + cost > maxDNSSearchListChars) break;
    out.push(search);
    chars += cost;
  }
  return out;
}
