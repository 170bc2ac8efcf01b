import type { Pod } from '../api/pod-types';
import type { DeviceHealthStatus } from '../devicemanager/device-manager';
import type { DraManager } from './dra-manager';

/**
 * A container's allocatedResourcesStatus from both sources, as upstream's status generation asks
 * the device manager and then the DRA manager: the device plugins' resources first, then one
 * entry per claim the container uses.
 */
export function withClaimHealth(
  devices: DeviceHealthStatus | undefined,
  dra: Pick<DraManager, 'allocatedResourcesStatus'>,
  podOf: (uid: string) => Pod | undefined,
): DeviceHealthStatus {
  return {
    allocatedResourcesStatus(podUid, container) {
      const fromDevices = devices?.allocatedResourcesStatus(podUid, container);
      const pod = podOf(podUid);
      const fromClaims = pod ? dra.allocatedResourcesStatus(pod, container) : undefined;
      if (!fromClaims) return fromDevices;
      return [...(fromDevices ?? []), ...fromClaims];
    },
  };
}
