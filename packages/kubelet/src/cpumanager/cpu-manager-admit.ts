import { admitted, type PodAdmitHandler, unexpectedAdmissionErrorReason } from '../admission/admit-handler';
import { CpuAllocationError } from './allocation-error';
import type { CpuManager } from './cpu-manager';

/**
 * Upstream's resource-allocation admit handler for the CPU manager (the topology manager's
 * admission under its default none policy): every container's CPUs are allocated as the pod is
 * admitted, and a refusal gives upstream's reason and message (admission.GetPodAdmitResult).
 */
export function cpuManagerAdmitHandler(manager: CpuManager): PodAdmitHandler {
  return {
    admit({ pod }) {
      try {
        manager.allocate(pod);
        return admitted;
      } catch (error) {
        const refusal =
          error instanceof CpuAllocationError
            ? error
            : CpuAllocationError.unexpected((error as Error).message);
        return {
          admit: false,
          reason: refusal.reason || unexpectedAdmissionErrorReason,
          message: refusal.message,
        };
      }
    },
  };
}
