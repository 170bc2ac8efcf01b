import type { ContainerAllocateResponse } from './deviceplugin-api';

/** Devices by the NUMA node they sit on (upstream checkpoint.DevicesPerNUMA; -1 for none). */
export type DevicesPerNuma = Map<number, string[]>;

/** One container's devices of one resource and the plugin's answer for them (upstream deviceAllocateInfo). */
export interface DeviceAllocation {
  devicesPerNuma: DevicesPerNuma;
  /** Undefined while the Allocate call for them is outstanding (reserved at admission). */
  response: ContainerAllocateResponse | undefined;
}

/** What CreateContainer gets for a container's devices (upstream DeviceRunContainerOptions). */
export interface DeviceRunContainerOptions {
  envs: { key: string; value: string }[];
  mounts: { containerPath: string; hostPath: string; readonly: boolean }[];
  devices: { containerPath: string; hostPath: string; permissions: string }[];
  annotations: Record<string, string>;
  cdiDevices: { name: string }[];
}

/** The device IDs of a DevicesPerNuma, each once. */
export function deviceIdsOf(perNuma: DevicesPerNuma): Set<string> {
  const ids = new Set<string>();
  for (const list of perNuma.values()) for (const id of list) ids.add(id);
  return ids;
}

/**
 * Upstream's podDevices: pod UID → container → resource → the devices allocated and the plugin's
 * Allocate answer. The one record of what is held, from which allocated devices, the checkpoint
 * and the containers' run options are derived.
 */
export class PodDevices {
  private readonly pods = new Map<string, Map<string, Map<string, DeviceAllocation>>>();

  insert(podUid: string, container: string, resource: string, allocation: DeviceAllocation): void {
    const containers = this.pods.get(podUid) ?? new Map<string, Map<string, DeviceAllocation>>();
    this.pods.set(podUid, containers);
    const resources = containers.get(container) ?? new Map<string, DeviceAllocation>();
    containers.set(container, resources);
    resources.set(resource, allocation);
  }

  get(podUid: string, container: string, resource: string): DeviceAllocation | undefined {
    return this.pods.get(podUid)?.get(container)?.get(resource);
  }

  /** Upstream containerDevices: the container's device IDs of the resource, undefined when none are held. */
  containerDevices(podUid: string, container: string, resource: string): Set<string> | undefined {
    const allocation = this.get(podUid, container, resource);
    return allocation ? deviceIdsOf(allocation.devicesPerNuma) : undefined;
  }

  /** The container's resources and their device IDs (upstream getContainerDevices). */
  containerResources(podUid: string, container: string): Map<string, DeviceAllocation> {
    return this.pods.get(podUid)?.get(container) ?? new Map();
  }

  hasPod(podUid: string): boolean {
    return this.pods.has(podUid);
  }

  podUids(): string[] {
    return [...this.pods.keys()];
  }

  /** The pod's containers that hold devices. */
  containers(podUid: string): string[] {
    return [...(this.pods.get(podUid)?.keys() ?? [])];
  }

  deletePod(podUid: string): void {
    this.pods.delete(podUid);
  }

  deleteContainerResource(podUid: string, container: string, resource: string): void {
    const resources = this.pods.get(podUid)?.get(container);
    resources?.delete(resource);
    if (resources?.size === 0) this.pods.get(podUid)?.delete(container);
    if (this.pods.get(podUid)?.size === 0) this.pods.delete(podUid);
  }

  /** Upstream devices(): every device held (or reserved), by resource. */
  devices(): Map<string, Set<string>> {
    const held = new Map<string, Set<string>>();
    for (const containers of this.pods.values())
      for (const resources of containers.values())
        for (const [resource, allocation] of resources) {
          const ids = held.get(resource) ?? new Set<string>();
          held.set(resource, ids);
          for (const id of deviceIdsOf(allocation.devicesPerNuma)) ids.add(id);
        }
    return held;
  }

  /** Every allocation, for the checkpoint (upstream toCheckpointData skips those without an answer). */
  entries(): { podUid: string; container: string; resource: string; allocation: DeviceAllocation }[] {
    const out: { podUid: string; container: string; resource: string; allocation: DeviceAllocation }[] = [];
    for (const [podUid, containers] of this.pods)
      for (const [container, resources] of containers)
        for (const [resource, allocation] of resources) out.push({ podUid, container, resource, allocation });
    return out;
  }

  /**
   * Upstream deviceRunContainerOptions: every resource's answer merged, the first setting of an
   * env, device path, mount path or annotation winning (a conflict is the plugin's error, logged
   * by upstream and skipped here the same way); undefined when the container holds nothing.
   */
  runContainerOptions(podUid: string, container: string): DeviceRunContainerOptions | undefined {
    const resources = this.pods.get(podUid)?.get(container);
    if (!resources) return undefined;
    const options: DeviceRunContainerOptions = {
      envs: [],
      mounts: [],
      devices: [],
      annotations: {},
      cdiDevices: [],
    };
    const envs = new Set<string>();
    const devices = new Set<string>();
    const mounts = new Set<string>();
    const cdi = new Set<string>();
    for (const { response } of resources.values()) {
      if (!response) continue;
      for (const [key, value] of Object.entries(response.envs ?? {})) {
        if (envs.has(key)) continue;
        envs.add(key);
        options.envs.push({ key, value });
      }
      for (const device of response.devices ?? []) {
        const containerPath = device.containerPath ?? '';
        if (devices.has(containerPath)) continue;
        devices.add(containerPath);
        options.devices.push({
          containerPath,
          hostPath: device.hostPath ?? '',
          permissions: device.permissions ?? '',
        });
      }
      for (const mount of response.mounts ?? []) {
        const containerPath = mount.containerPath ?? '';
        if (mounts.has(containerPath)) continue;
        mounts.add(containerPath);
        options.mounts.push({
          containerPath,
          hostPath: mount.hostPath ?? '',
          readonly: mount.readOnly ?? false,
        });
      }
      for (const [key, value] of Object.entries(response.annotations ?? {}))
        if (!(key in options.annotations)) options.annotations[key] = value;
      for (const device of response.cdiDevices ?? []) {
        const name = device.name ?? '';
        if (name === '' || cdi.has(name)) continue;
        cdi.add(name);
        options.cdiDevices.push({ name });
      }
    }
    return options;
  }
}
