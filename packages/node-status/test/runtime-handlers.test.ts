import { describe, expect, it } from 'vitest';
import { runtimeStatusFromCri } from '../src/index';
import { buildNodeStatus, nodeStatusHasChanged, type ServerStatus } from '../src/node-object/index';
import type { RuntimeStatusFeatures } from '../src/runtime-handlers';

const statusWith = (runtimeStatus: RuntimeStatusFeatures | undefined) =>
  buildNodeStatus({
    capacity: { cpu: '2' },
    allocatable: { cpu: '2' },
    conditions: [],
    addresses: [{ type: 'InternalIP', address: '10.0.0.5' }],
    machine: {
      numCores: 2,
      memoryCapacityBytes: 0,
      ephemeralStorageBytes: 0,
      machineID: 'm',
      systemUUID: 'u',
      bootID: 'b',
      kernelVersion: 'k',
      osImage: 'o',
      operatingSystem: 'linux',
      architecture: 'amd64',
      hostname: 'node-a',
      hugePages: [],
    },
    runtime: { runtimeName: 'containerd', runtimeVersion: '2.1.9' },
    images: [],
    maxImages: 50,
    kubeletPort: 10250,
    kubeletVersion: 'v1.36.3',
    runtimeStatus,
  });

/** containerd 2.1's Status reply with runc 1.1 (no idmapped mounts). */
const containerd21 = runtimeStatusFromCri({
  runtimeHandlers: [
    { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
    { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
  ],
  features: { supplementalGroupsPolicy: true },
});

/** The server's copy: what we would send, without its heartbeat-free fields changed. */
const serverCopy = (status: ReturnType<typeof statusWith>) =>
  structuredClone(status) as unknown as ServerStatus;

describe('runtime handlers and features in the node status', () => {
  it('converts a CRI Status reply as upstream toKubeRuntimeStatus does', () => {
    expect(
      runtimeStatusFromCri({ runtimeHandlers: [{ name: 'kata', features: null }], features: null }),
    ).toEqual({ handlers: [{ name: 'kata', recursiveReadOnlyMounts: false, userNamespaces: false }] });
    expect(containerd21.supplementalGroupsPolicy).toBe(true);
  });

  it('sends both fields when the runtime reported them, neither when it did not or is not known', () => {
    const status = statusWith(containerd21);
    expect(status.runtimeHandlers).toEqual([
      { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
      { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } },
    ]);
    expect(status.features).toEqual({ supplementalGroupsPolicy: true });
    const containerd16 = statusWith(runtimeStatusFromCri({ runtimeHandlers: [], features: null }));
    expect('runtimeHandlers' in containerd16 || 'features' in containerd16).toBe(false);
    const unknown = statusWith(undefined);
    expect('runtimeHandlers' in unknown || 'features' in unknown).toBe(false);
  });

  it('patches when the server lacks or differs in a handler or the features, not when it matches', () => {
    const status = statusWith(containerd21);
    expect(nodeStatusHasChanged(serverCopy(status), status)).toBe(false);
    const { runtimeHandlers: _h, ...withoutHandlers } = status;
    expect(nodeStatusHasChanged(serverCopy({ ...withoutHandlers }), status)).toBe(true);
    const flipped = structuredClone(status);
    flipped.runtimeHandlers![1]!.features.userNamespaces = true;
    expect(nodeStatusHasChanged(serverCopy(flipped), status)).toBe(true);
    expect(
      nodeStatusHasChanged(serverCopy({ ...status, features: { supplementalGroupsPolicy: false } }), status),
    ).toBe(true);
    // Nothing to send (containerd 1.6): whatever the server shows forces no patch.
    const none = statusWith(undefined);
    expect(nodeStatusHasChanged(serverCopy(status), none)).toBe(false);
  });
});
