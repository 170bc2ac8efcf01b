import {
  type MessageInput,
  type PodSandboxConfig,
  Protocol,
  type UserNamespace,
} from '@nodeagent/cri-client/types';
import type { Pod } from '../api/pod-types';
import { type ClusterDNSOptions, podDNSConfig } from './dns-config';
import { podNameLabel, podNamespaceLabel, podUidLabel } from './labels';
import { defaultPodLogsDir, podLogDirectory } from './log-paths';
import { type SandboxResourceOptions, sandboxOverhead, sandboxResources } from './sandbox-resources';
import { linuxSandboxSecurityContext } from './security-context';
import { sysctlNameWithDots } from './sysctl-namespace';

/**
 * What buildSandboxConfig needs beyond the pod: cluster DNS settings, the sandbox attempt, the log directory,
 * the cgroup parent and the host facts its CRI resources are made from.
 */
export interface SandboxConfigOptions extends ClusterDNSOptions, SandboxResourceOptions {
  /** Sandbox attempt: 0 first, incremented each time the sandbox is re-created. */
  attempt: number;
  podLogsDir?: string;
  /** Cgroup parent for the pod (from the QoS cgroup hierarchy); empty lets the runtime choose. */
  cgroupParent?: string;
  /** ID mappings of the pod's user namespace, for hostUsers: false. */
  userNamespace?: MessageInput<UserNamespace>;
}

const maxHostnameLength = 63;

/**
 * Upstream GeneratePodHostNameAndDomain: spec.hostname or the pod name, cut to 63 characters
 * without a trailing dash or dot, and the subdomain's FQDN when spec.subdomain is set. A
 * spec.hostnameOverride (v1.36, beta on) is the hostname as it stands, never cut, with no domain:
 * hostname, subdomain and setHostnameAsFQDN no longer count (the API server refuses it beside
 * setHostnameAsFQDN or hostNetwork, so the kubelet has nothing more to check).
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  if (pod.spec.hostnameOverride) return { hostname: pod.spec.hostnameOverride, domain: '' };
  let hostname = pod.spec.hostname || pod.metadata.name || '';
  if (hostname.length > maxHostnameLength)
    hostname = hostname.slice(0, maxHostnameLength).replace(/[-.]+$/, '');
  const namespace = pod.metadata.namespace ?? 'default';
  const domain =
    pod.spec.subdomain && clusterDomain ? `${pod.spec.subdomain}.${namespace}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The pod's labels plus the three the kubelet relies on to find its sandboxes again. */
export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [podNameLabel]: pod.metadata.name ?? '',
    [podNamespaceLabel]: pod.metadata.namespace ?? 'default',
    [podUidLabel]: pod.metadata.uid ?? '',
  };
}

/**
 * Pod → CRI PodSandboxConfig (upstream generatePodSandboxConfig). The return type is inferred
 * (checked with `satisfies`) so the fields the kubelet always sets stay non-optional.
 */
export function buildSandboxConfig(pod: Pod, options: SandboxConfigOptions) {
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const uid = pod.metadata.uid ?? '';
  const hostNetwork = pod.spec.hostNetwork ?? false;
  const { hostname, domain } = podHostnameAndDomain(pod, options.clusterDomain);
  const portMappings = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].flatMap((container) =>
    (container.ports ?? []).map((port) => ({
      protocol: Protocol[port.protocol ?? 'TCP'],
      containerPort: port.containerPort,
      hostPort: port.hostPort ?? 0,
      hostIp: port.hostIP ?? '',
    })),
  );
  const security = pod.spec.securityContext ?? {};
  const sysctls: Record<string, string> = {};
  // Upstream SyncPod converts slash-separated names first: runc takes dotted names only.
  for (const sysctl of security.sysctls ?? []) sysctls[sysctlNameWithDots(sysctl.name)] = sysctl.value;
  return {
    metadata: { name, namespace, uid, attempt: options.attempt },
    // Host-network pods keep the node's hostname.
    hostname: hostNetwork ? '' : pod.spec.setHostnameAsFQDN && domain ? `${hostname}.${domain}` : hostname,
    logDirectory: podLogDirectory(options.podLogsDir ?? defaultPodLogsDir, namespace, name, uid),
    dnsConfig: podDNSConfig(pod, options),
    portMappings,
    labels: sandboxLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}) },
    linux: {
      cgroupParent: options.cgroupParent ?? '',
      securityContext: linuxSandboxSecurityContext(pod, options.userNamespace),
      sysctls,
      // Upstream applySandboxResources: what the pod's containers will use, and its RuntimeClass's overhead.
      resources: sandboxResources(pod, options),
      overhead: sandboxOverhead(pod, options),
    },
  } satisfies MessageInput<PodSandboxConfig>;
}
