import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
  unexpectedAdmissionErrorReason,
} from '../admission/admit-handler';
import type { Container, Pod } from '../api/pod-types';
import { NumaInfo, type NumaNode } from './numa-info';
import type { ResourceHints, TopologyHint } from './topology-hint';
import type { AlignScope, TopologyManagerMetrics } from './topology-manager-metrics';
import { type AligningPolicyName, TopologyPolicy } from './topology-policy';
import { parseTopologyPolicyOptions } from './topology-policy-options';

/**
 * A resource manager that the topology manager asks for NUMA hints and then has allocate
 * (upstream HintProvider: the CPU, device and memory managers).
 */
export interface HintProvider {
  /** Upstream GetTopologyHints: the container's hints by resource (container scope). */
  getTopologyHints(pod: Pod, container: Container): ResourceHints;
  /** Upstream GetPodTopologyHints: the whole pod's hints by resource (pod scope). */
  getPodTopologyHints(pod: Pod): ResourceHints;
  /**
   * Upstream Allocate, given the affinity the topology manager chose for the container (upstream
   * sets it in the manager's store and the provider reads it straight back). Throws an error whose
   * `reason` names the refusal, or any other for an UnexpectedAdmissionError.
   */
  allocate(pod: Pod, container: Container, affinity: TopologyHint): void;
}

/** The KubeletConfiguration fields the topology manager is built from. */
export interface TopologyManagerConfig {
  /** topologyManagerPolicy: none, best-effort, restricted or single-numa-node. */
  policyName: string;
  /** topologyManagerScope: container or pod. */
  scopeName: string;
  /** topologyManagerPolicyOptions. */
  policyOptions: Readonly<Record<string, string>>;
  /** The machine's NUMA nodes (read only when the policy is not none). */
  numaNodes: () => readonly NumaNode[];
  /** Hears a max-allowable-numa-nodes above the recommended 8 (upstream logs a warning). */
  onMaxAboveDefault?: (value: number) => void;
  /** Where admissions are counted (upstream's kubelet_topology_manager_* and aligned-compute series). */
  metrics?: TopologyManagerMetrics;
}

/** Upstream TopologyAffinityError: the refusal when no hint the policy accepts exists. */
export const topologyAffinityError: PodAdmitResult = {
  admit: false,
  reason: 'TopologyAffinityError',
  message: 'Resources cannot be allocated with Topology locality',
};

/** What "no affinity" is to a provider (upstream's zero TopologyHint). */
const noAffinity: TopologyHint = { affinity: null, preferred: false };

/** Upstream admission.GetPodAdmitResult for an allocation error. */
function allocationRefusal(error: unknown): PodAdmitResult {
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason !== '')
    return { admit: false, reason, message: (error as Error).message };
  return {
    admit: false,
    reason: unexpectedAdmissionErrorReason,
    message: `Allocate failed due to ${(error as Error).message}, which is unexpected`,
  };
}

/** Upstream NewManager's policy and scope choice, in its order and words; null for none. */
function newPolicy(config: TopologyManagerConfig): TopologyPolicy | null {
  // Upstream short-circuits none before the options are even parsed.
  if (config.policyName === 'none') return null;
  const options = parseTopologyPolicyOptions(config.policyOptions, config.onMaxAboveDefault);
  let numaInfo: NumaInfo;
  try {
    numaInfo = new NumaInfo(config.numaNodes(), options.preferClosestNuma);
  } catch (error) {
    throw new Error(`cannot discover NUMA topology: ${(error as Error).message}`);
  }
  if (numaInfo.nodes.length > options.maxAllowableNumaNodes)
    throw new Error(`unsupported on machines with more than ${options.maxAllowableNumaNodes} NUMA Nodes`);
  if (!['best-effort', 'restricted', 'single-numa-node'].includes(config.policyName))
    throw new Error(`unknown policy: "${config.policyName}"`);
  if (config.scopeName !== 'container' && config.scopeName !== 'pod')
    throw new Error(`unknown scope: "${config.scopeName}"`);
  return new TopologyPolicy(config.policyName as AligningPolicyName, numaInfo, options);
}

/**
 * Upstream's topology manager (pkg/kubelet/cm/topologymanager): THE resource-allocation admit
 * handler. Under the none policy every container is simply allocated; under the others the
 * providers' hints are merged per container (container scope) or once for the pod (pod scope),
 * a hint the policy refuses fails the pod with TopologyAffinityError, and each container is
 * allocated with the chosen affinity.
 */
export class TopologyManager implements PodAdmitHandler {
  readonly policyName: string;
  readonly scopeName: string;
  private readonly policy: TopologyPolicy | null;
  private readonly providers: HintProvider[] = [];
  private readonly metrics: TopologyManagerMetrics | undefined;

  /** Upstream NewManager: throws with upstream's text for an option, policy or scope it refuses. */
  constructor(config: TopologyManagerConfig) {
    this.policy = newPolicy(config);
    this.policyName = config.policyName;
    this.scopeName = config.scopeName;
    this.metrics = config.metrics;
    // Upstream's initializeMetrics, past the none policy's short circuit: the four numa_node
    // series exist from the start, at 0.
    if (this.policy && this.metrics)
      for (const scope of ['container', 'pod'] as const) {
        this.metrics.aligned.aligned.inc({ boundary: 'numa_node', scope }, 0);
        this.metrics.aligned.failures.inc({ boundary: 'numa_node', scope }, 0);
      }
  }

  /** Upstream AddHintProvider: providers are asked, and allocate, in the order added. */
  addHintProvider(provider: HintProvider): void {
    this.providers.push(provider);
  }

  /**
   * Upstream Admit through the chosen scope: every request is counted and timed in whole
   * milliseconds, as upstream's, under the none policy too.
   */
  admit({ pod }: PodAdmitAttributes): PodAdmitResult {
    this.metrics?.admissionRequests.inc();
    const start = performance.now();
    const result = this.admitByScope(pod);
    this.metrics?.admissionDuration.observe(Math.floor(performance.now() - start));
    return result;
  }

  /** Upstream's scopes' Admit: the none scope counts no error; the others each refusal and failure. */
  private admitByScope(pod: Pod): PodAdmitResult {
    const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    const policy = this.policy;
    if (!policy) return this.allocateAll(pod, containers, () => noAffinity);
    if (this.scopeName === 'pod') {
      const { hint, admit } = policy.merge(this.providers.map((p) => p.getPodTopologyHints(pod)));
      if (!admit) return this.refused('pod');
      return this.counted(
        'pod',
        this.allocateAll(pod, containers, () => hint),
      );
    }
    for (const container of containers) {
      const { hint, admit } = policy.merge(this.providers.map((p) => p.getTopologyHints(pod, container)));
      if (!admit) return this.refused('container');
      const refusal = this.counted(
        'container',
        this.allocateAll(pod, [container], () => hint),
      );
      if (!refusal.admit) return refusal;
    }
    return admitted;
  }

  /**
   * Upstream IsAlignmentGuaranteed: only single-numa-node promises NUMA-aligned resources, so only
   * its admissions count as aligned or as alignment failures.
   */
  private get alignmentGuaranteed(): boolean {
    return this.policy?.name === 'single-numa-node';
  }

  /** A hint the policy refused: an alignment failure (when guaranteed) and an admission error. */
  private refused(scope: AlignScope): PodAdmitResult {
    if (this.alignmentGuaranteed) this.metrics?.aligned.failures.inc({ boundary: 'numa_node', scope });
    this.metrics?.admissionErrors.inc();
    return topologyAffinityError;
  }

  /** An allocation's outcome counted: an admission error, or (when guaranteed) an aligned allocation. */
  private counted(scope: AlignScope, result: PodAdmitResult): PodAdmitResult {
    if (!result.admit) this.metrics?.admissionErrors.inc();
    else if (this.alignmentGuaranteed) this.metrics?.aligned.aligned.inc({ boundary: 'numa_node', scope });
    return result;
  }

  /** Upstream allocateAlignedResources for each container in turn; the first failure refuses the pod. */
  private allocateAll(pod: Pod, containers: readonly Container[], hint: () => TopologyHint): PodAdmitResult {
    for (const container of containers)
      for (const provider of this.providers) {
        try {
          provider.allocate(pod, container, hint());
        } catch (error) {
          return allocationRefusal(error);
        }
      }
    return admitted;
  }
}
