import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostAlias, Pod } from '../api/pod-types';
import { podHostnameAndDomain } from '../cri/sandbox-config';

/** The first line of a hosts file the kubelet wrote for a pod in its own network namespace. */
export const managedHostsHeader = '# Kubernetes-managed hosts file.\n';
/** The first line of a host-network pod's hosts file: the node's file plus the pod's hostAliases. */
export const managedHostsHeaderWithHostNetwork = '# Kubernetes-managed hosts file (host network).\n';
export const nodeEtcHostsPath = '/etc/hosts';

/** The hostAliases block appended to either kind of file (empty without aliases). */
export function hostAliasesEntries(aliases: readonly HostAlias[] | undefined): string {
  if (!aliases || aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const alias of aliases) out += `${alias.ip}\t${(alias.hostnames ?? []).join('\t')}\n`;
  return out;
}

/**
 * Upstream managedHostsFileContent: localhost lines, every pod IP with the pod's hostname (its
 * FQDN first when the pod has a subdomain), then the hostAliases.
 */
export function managedHostsFileContent(
  podIPs: readonly string[],
  hostname: string,
  domain: string,
  aliases: readonly HostAlias[] | undefined,
): string {
  let out = managedHostsHeader;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs)
    out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasesEntries(aliases);
}

/** Upstream nodeHostsFileContent: the node's own hosts file under the host-network header, plus hostAliases. */
export function nodeHostsFileContent(nodeHosts: string, aliases: readonly HostAlias[] | undefined): string {
  return managedHostsHeaderWithHostNetwork + nodeHosts + hostAliasesEntries(aliases);
}

export interface EtcHostsOptions {
  /** The pod's directory (<root-dir>/pods/<uid>): the file is its `etc-hosts`. */
  podDir: string;
  podIPs: readonly string[];
  clusterDomain: string;
  /** The node's hosts file, copied for host-network pods (default /etc/hosts). */
  nodeHostsFile?: string;
}

/**
 * Upstream ensureHostsFile: (re)writes <podDir>/etc-hosts, mode 0644, before each container
 * start, and returns its path. Nothing is written while the pod has no IP yet (upstream mounts
 * the file only once podIPs are known).
 */
export async function ensureEtcHostsFile(pod: Pod, options: EtcHostsOptions): Promise<string | undefined> {
  if (options.podIPs.length === 0) return undefined;
  const content = pod.spec.hostNetwork
    ? nodeHostsFileContent(
        await readFile(options.nodeHostsFile ?? nodeEtcHostsPath, 'utf8'),
        pod.spec.hostAliases,
      )
    : (() => {
        const { hostname, domain } = podHostnameAndDomain(pod, options.clusterDomain);
        return managedHostsFileContent(options.podIPs, hostname, domain, pod.spec.hostAliases);
      })();
  const path = join(options.podDir, 'etc-hosts');
  await writeFile(path, content, { mode: 0o644 });
  await chmod(path, 0o644);
  return path;
}
