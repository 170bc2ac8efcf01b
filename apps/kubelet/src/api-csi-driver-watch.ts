import type { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import type { CsiDriverWatch } from '@nodeagent/kubelet/volumes';

/** The part of a CSIDriver the watch keeps. */
interface CsiDriverPeriod {
  metadata?: { name?: string; namespace?: string };
  spec?: { nodeAllocatableUpdatePeriodSeconds?: number };
}

/** Only the name and the update period are read: the rest of each CSIDriver is dropped. */
function periodOnly(driver: CsiDriverPeriod): CsiDriverPeriod {
  const seconds = driver.spec?.nodeAllocatableUpdatePeriodSeconds;
  return {
    metadata: { name: driver.metadata?.name ?? '' },
    spec: seconds === undefined ? {} : { nodeAllocatableUpdatePeriodSeconds: seconds },
  };
}

/**
 * The cluster's CSIDrivers (storage.k8s.io/v1 csidrivers, one list and watch, as upstream's
 * kubelet keeps its CSIDriver informer) for the CSI node updater: each driver's
 * nodeAllocatableUpdatePeriodSeconds, and a change when one is added, deleted or its period moves.
 */
export function apiCsiDriverWatch(
  kubeConfig: KubeConfig,
  onError: (error: unknown) => void,
): CsiDriverWatch & { start(): void; stop(): Promise<void> } {
  const informer = new Informer<CsiDriverPeriod>({
    kubeConfig,
    resource: { apiVersion: 'storage.k8s.io/v1', plural: 'csidrivers' },
    transform: periodOnly,
    onError,
  });
  const name = (driver: CsiDriverPeriod) => driver.metadata?.name ?? '';
  const period = (driver: CsiDriverPeriod | undefined) =>
    driver?.spec?.nodeAllocatableUpdatePeriodSeconds ?? 0;
  return {
    nodeAllocatableUpdatePeriodMs: (driver) => period(informer.get(driver)) * 1000,
    onChange(listener) {
      informer.onAdd((driver) => listener(name(driver)));
      informer.onUpdate((old, driver) => {
        if (period(old) !== period(driver)) listener(name(driver));
      });
      informer.onDelete((driver) => listener(name(driver)));
    },
    start: () => void informer.start(),
    stop: () => informer.stop(),
  };
}
