import { everyNumaMask, type NumaMask } from '../topologymanager/numa-mask';
import type { TopologyHint } from '../topologymanager/topology-hint';
import type { PluginDevice } from './deviceplugin-api';

/** The NUMA node IDs a device reports. */
export function deviceNumaNodes(device: PluginDevice | undefined): number[] {
  return (device?.topology?.nodes ?? []).map((node) => Number(node.ID ?? 0));
}

function anySet(mask: NumaMask, nodes: readonly number[]): boolean {
  return nodes.some((node) => mask.has(node));
}

/**
 * Upstream generateDeviceTopologyHints for one resource: every combination of the machine's
 * NUMA nodes on which enough of `available` devices sit is a hint, preferred when it is as
 * narrow as any combination holding `request` of the resource's devices. undefined (no
 * preference) when no device of the resource reports a topology (deviceHasTopologyAlignment);
 * an empty list when too few devices are available.
 */
export function deviceTopologyHints(inputs: {
  devices: ReadonlyMap<string, PluginDevice>;
  healthy: ReadonlySet<string>;
  available: readonly string[];
  request: number;
  numaNodes: readonly number[];
}): TopologyHint[] | undefined {
  const { devices, available, request, numaNodes } = inputs;
  if (![...devices.values()].some((device) => device.topology)) return undefined;
  if (available.length < request) return [];
  let minAffinitySize = numaNodes.length;
  const hints: TopologyHint[] = [];
  everyNumaMask(numaNodes, (mask) => {
    let inMask = 0;
    for (const device of devices.values()) if (anySet(mask, deviceNumaNodes(device))) inMask++;
    if (inMask >= request && mask.count < minAffinitySize) minAffinitySize = mask.count;
    let matching = 0;
    for (const id of available) if (anySet(mask, deviceNumaNodes(devices.get(id)))) matching++;
    if (matching < request) return;
    hints.push({ affinity: mask, preferred: false });
  });
  return hints.map((hint) => ({ ...hint, preferred: hint.affinity?.count === minAffinitySize }));
}
