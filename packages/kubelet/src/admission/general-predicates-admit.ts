import {
  findUntoleratedTaint,
  requiredNodeAffinityMatches,
  type Taint,
} from '@nodeagent/primitives/scheduling';
import { isStaticPod } from '../api/config-source';
import type { ContainerPort, Pod } from '../api/pod-types';
import { admitted, type PodAdmitHandler, type PodAdmitResult } from './admit-handler';

/** The Node the predicates read: the API's copy once there is one, else the node as it registers. */
export interface AdmissionNode {
  name: string;
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** Upstream's PredicateFailureError: the plugin's name is the reason, its text the message. */
function refuse(predicate: string, description: string): PodAdmitResult {
  return { admit: false, reason: predicate, message: `Predicate ${predicate} failed: ${description}` };
}

/** The host ports a pod's containers ask for (the scheduler's getContainerPorts: app containers, hostPort > 0). */
function hostPorts(pod: Pod): ContainerPort[] {
  return pod.spec.containers.flatMap((c) => (c.ports ?? []).filter((p) => (p.hostPort ?? 0) > 0));
}

/** Upstream's HostPortInfo key parts: no IP is every IP (0.0.0.0), no protocol is TCP. */
function portKey(port: ContainerPort): { ip: string; key: string } {
  return { ip: port.hostIP || '0.0.0.0', key: `${port.protocol || 'TCP'}/${port.hostPort}` };
}

/**
 * Whether a wanted host port collides with one the admitted pods hold (HostPortInfo.CheckConflict):
 * the same protocol and port on the same IP, or on any IP when either side binds 0.0.0.0.
 */
function hostPortsConflict(pod: Pod, otherPods: readonly Pod[]): boolean {
  const used = new Map<string, Set<string>>();
  for (const port of otherPods.flatMap(hostPorts)) {
    const { ip, key } = portKey(port);
    used.set(ip, (used.get(ip) ?? new Set()).add(key));
  }
  return hostPorts(pod).some((port) => {
    const { ip, key } = portKey(port);
    if (ip === '0.0.0.0') return [...used.values()].some((keys) => keys.has(key));
    return used.get(ip)?.has(key) === true || used.get('0.0.0.0')?.has(key) === true;
  });
}

/**
 * The scheduler's checks the kubelet's predicate admit handler runs again after the resource fit
 * (AdmissionCheck, then the taints in generalFilter): the node must match the pod's nodeSelector
 * and required node affinity, be the node it names, have its host ports free among the admitted
 * pods, and carry no NoExecute taint the pod does not tolerate (static pods excepted). A pod bound
 * without the scheduler (`spec.nodeName` set by hand) is refused here, as upstream's kubelet
 * refuses it, with the first failing predicate as reason.
 */
export function generalPredicatesAdmitHandler(node: () => AdmissionNode): PodAdmitHandler {
  return {
    admit({ pod, otherPods }) {
      const current = node();
      const nodeView = { metadata: { name: current.name, labels: current.labels ?? {} } };
      if (!requiredNodeAffinityMatches(pod, nodeView))
        return refuse('NodeAffinity', "node(s) didn't match Pod's node affinity/selector");
      if (pod.spec.nodeName && pod.spec.nodeName !== current.name)
        return refuse('NodeName', "node(s) didn't match the requested node name");
      if (hostPortsConflict(pod, otherPods))
        return refuse('NodePorts', "node(s) didn't have free ports for the requested pod ports");
      const untolerated =
        !isStaticPod(pod) &&
        findUntoleratedTaint(
          current.taints ?? [],
          pod.spec.tolerations ?? [],
          (t) => t.effect === 'NoExecute',
        );
      if (untolerated) return refuse('TaintToleration', "node(s) had taints that the pod didn't tolerate");
      return admitted;
    },
  };
}

/** A Node object as the general predicates read it; undefined stays undefined. */
export function admissionNodeOf(
  node:
    | { metadata?: { name?: string; labels?: Record<string, string> }; spec?: { taints?: Taint[] } }
    | undefined,
): AdmissionNode | undefined {
  if (!node) return undefined;
  return {
    name: node.metadata?.name ?? '',
    labels: node.metadata?.labels ?? {},
    taints: node.spec?.taints ?? [],
  };
}
