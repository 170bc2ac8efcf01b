import type { CriClient } from '@nodeagent/cri-client';
import { goErrorText } from '../cri/go-grpc-error';
import type { KubeletLogger } from '../kubelet-logger';

// podCIDR and the Node's spec.podCIDRs: upstream's kubelet hands the runtime the node's pod
// CIDR through CRI UpdateRuntimeConfig (kubelet_network.go updatePodCIDR; kuberuntime's
// UpdatePodCIDR makes the call), from the config's podCIDR when the kubelet is built and from
// the Node's spec.podCIDRs (joined with ",") at each node status update. The runtime hands it
// to its CNI config (containerd's conf_template). The CIDR last handed over is runtime state:
// the same CIDR again is no call, and a failed call leaves it as it was, so the next update
// tries again.

/** upstream's log line when the config's podCIDR cannot be handed over (NewMainKubelet). */
export const podCidrUpdateFailedMessage = 'Pod CIDR update failed';

/** upstream's log line when the Node's spec.podCIDRs cannot be handed over (updateNode). */
export const nodePodCidrUpdateFailedMessage = 'Error updating pod CIDR';

/** The pod CIDR the runtime was last given, and the update that gives it a new one. */
export class RuntimePodCidr {
  private current = '';
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cri: Pick<CriClient, 'updateRuntimeConfig'>,
    private readonly logger: Pick<KubeletLogger, 'info'>,
  ) {}

  /** The CIDR the runtime accepted last ("" before any). */
  get podCIDR(): string {
    return this.current;
  }

  /**
   * upstream's updatePodCIDR: hands `cidr` to the runtime unless it is the one it has. Resolves
   * whether the CIDR differed; rejects with upstream's `failed to update pod CIDR: <error>` when
   * the runtime refuses (the state is then unchanged). Updates run one at a time, as upstream's
   * updatePodCIDRMux has them.
   */
  update(cidr: string): Promise<boolean> {
    const run = this.pending.then(() => this.updateNow(cidr));
    this.pending = run.catch(() => undefined);
    return run;
  }

  private async updateNow(cidr: string): Promise<boolean> {
    const original = this.current;
    if (original === cidr) return false;
    // kuberuntime's UpdatePodCIDR logs before its call.
    this.logger.info({ CIDR: cidr }, 'Updating runtime config through cri with podcidr');
    try {
      await this.cri.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: cidr } } });
    } catch (error) {
      throw new Error(`failed to update pod CIDR: ${goErrorText(error)}`, { cause: error });
    }
    this.logger.info({ originalPodCIDR: original, newPodCIDR: cidr }, 'Updating Pod CIDR');
    this.current = cidr;
    return true;
  }
}

/** The CIDR upstream's updateNode hands over for a Node: its spec.podCIDRs joined, or none when empty. */
export function nodePodCidr(
  node: { spec?: { podCIDRs?: readonly string[] } } | undefined,
): string | undefined {
  const cidrs = node?.spec?.podCIDRs ?? [];
  return cidrs.length > 0 ? cidrs.join(',') : undefined;
}
