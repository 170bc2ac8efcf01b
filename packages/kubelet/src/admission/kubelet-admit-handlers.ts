import type { Pod, ResourceList } from '../api/pod-types';
import { appArmorAdmission, appArmorHostError } from '../cri/apparmor-profile';
import type { RuntimeFeatures } from '../cri/pod-runtime';
import type { PodAdmitHandler, PodAdmitResult } from './admit-handler';
import { type AdmissionNode, generalPredicatesAdmitHandler } from './general-predicates-admit';
import { podCountAdmitHandler } from './pod-count-admit';
import { podLevelResourcesAdmitHandler } from './pod-level-resources-admit';
import { podOSAdmitHandler, windowsOptionsAdmitHandler } from './pod-os-admit';
import { type PluginResourceAllocations, resourceFitAdmitHandler } from './resource-fit-admit';
import { supplementalGroupsPolicyAdmitHandler, userNamespacesAdmitHandler } from './runtime-feature-admit';
import { safeSysctlAllowlist } from './safe-sysctls';
import { seLinuxAdmitHandler } from './selinux-admit';
import { SysctlAllowlist } from './sysctl-allowlist';

/** The KubeletConfiguration fields, host facts and callbacks kubeletAdmitHandlers builds its handlers from. */
export interface KubeletAdmitHandlersOptions {
  /** KubeletConfiguration.maxPods. */
  maxPods: number;
  /** KubeletConfiguration.allowedUnsafeSysctls: names or prefixes ending in '*'. */
  allowedUnsafeSysctls: readonly string[];
  /** Eviction admission (no best-effort pods under memory pressure, none under other pressure). */
  eviction: (pod: Pod) => PodAdmitResult;
  /** The runtime's features as last read; undefined until read (every feature counts as missing). */
  runtimeFeatures: () => RuntimeFeatures | undefined;
  /** Whether the kubelet keeps pod cgroups (cgroupsPerQOS); pods with pod-level resources need them (default true). */
  podCgroups?: boolean;
  /** The node's allocatable as last known; new pods' cpu, memory and ephemeral-storage requests must fit in it (default: unknown, no check). */
  nodeAllocatable?: () => ResourceList | undefined;
  /** What the device manager gives out, by resource: allocatable never counts for less. */
  pluginResources?: PluginResourceAllocations;
  /** Upstream IsCriticalPod; such pods are never refused for cpu/memory (upstream preempts for them instead). */
  isCriticalPod?: (pod: Pod) => boolean;
  /** Kernel release for the safe sysctls' version conditions (default: this host's). */
  kernelRelease?: string;
  /** Whether the host enforces SELinux (default: selinuxfs is mounted). */
  seLinuxEnabled?: boolean;
  /** Why the host cannot enforce AppArmor, undefined when it can (default: read from the kernel at start). */
  appArmorHostError?: () => string | undefined;
  /**
   * Refusals upstream does not make (default off, as upstream): SELinux labels on a host without
   * SELinux, Windows-only security options, and `hostUsers: false` (refused at admission instead
   * of failing the sandbox and retrying). The Kubelet's strictAdmission option.
   */
  strictAdmission?: boolean;
  /** Whether the kubelet allocates user namespace ID ranges (a UserNamespaceAllocator). */
  allocatesUserNamespaces?: boolean;
  /**
   * Upstream's resource-allocation handler (the CPU manager's allocation at admission), run
   * before the predicate checks as upstream's NewMainKubelet adds it.
   */
  allocateResources?: PodAdmitHandler;
  /** The node shutdown manager: every pod refused while the node shuts down (upstream adds it after AppArmor). */
  nodeShutdown?: PodAdmitHandler;
  /**
   * The Node the general predicates read (NodeAffinity, NodeName, NodePorts, TaintToleration);
   * without one they are not checked.
   */
  node?: () => AdmissionNode;
}

/**
 * The kubelet's admit handlers in upstream's order: eviction, the sysctl allowlist (safe set plus
 * allowedUnsafeSysctls; upstream concatenates the two lists), AppArmor, node shutdown, the predicate checks (OS,
 * runtime features, pod-level resources without pod cgroups, pod count, cpu/memory/ephemeral-storage fit, then
 * node affinity, node name, host ports and NoExecute taints). With strictAdmission, beyond upstream: the host's SELinux,
 * Windows-only options and user namespaces this kubelet cannot give the sandbox.
 * Throws InvalidConfigError for an allowedUnsafeSysctls entry upstream's kubelet would not start with.
 *
 * Privileged containers and host namespaces are not refused here: upstream's kubelet has had no
 * switch for them since --allow-privileged was removed (it always allows them; the API server's
 * --allow-privileged and Pod Security Admission decide). A RuntimeClass is not judged here either:
 * its handler goes to RunPodSandbox, and an unknown one fails the sandbox, as upstream.
 */
export function kubeletAdmitHandlers(options: KubeletAdmitHandlersOptions): PodAdmitHandler[] {
  const sysctls = new SysctlAllowlist([
    ...safeSysctlAllowlist(options.kernelRelease),
    ...options.allowedUnsafeSysctls,
  ]);
  const appArmorUnavailable = (options.appArmorHostError ?? appArmorHostError)();
  const handlers: PodAdmitHandler[] = [
    { admit: ({ pod }) => options.eviction(pod) },
    sysctls,
    // Upstream NewAppArmorAdmitHandler, next after the sysctls in NewMainKubelet.
    { admit: ({ pod }) => appArmorAdmission(pod, appArmorUnavailable) },
    ...(options.nodeShutdown ? [options.nodeShutdown] : []),
    ...(options.allocateResources ? [options.allocateResources] : []),
    podOSAdmitHandler,
    supplementalGroupsPolicyAdmitHandler(options.runtimeFeatures),
    podLevelResourcesAdmitHandler(options.podCgroups ?? true),
    podCountAdmitHandler(options.maxPods),
    resourceFitAdmitHandler(
      options.nodeAllocatable ?? (() => undefined),
      options.isCriticalPod,
      options.pluginResources,
    ),
    // Upstream's generalFilter: after the resource fit, the rest of the scheduler's admission check.
    ...(options.node ? [generalPredicatesAdmitHandler(options.node)] : []),
  ];
  if (options.strictAdmission)
    handlers.push(
      windowsOptionsAdmitHandler,
      seLinuxAdmitHandler(options.seLinuxEnabled),
      userNamespacesAdmitHandler(options.runtimeFeatures, options.allocatesUserNamespaces ?? false),
    );
  return handlers;
}
