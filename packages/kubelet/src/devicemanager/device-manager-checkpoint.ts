import { fnv32a, spewBytes } from '../deep-hash';
import type { ContainerAllocateResponse } from './deviceplugin-api';
import { decodeContainerAllocateResponse, encodeContainerAllocateResponse } from './deviceplugin-services';
import type { DevicesPerNuma } from './pod-devices';

/** One checkpoint entry: a container's devices of one resource and the plugin's answer. */
export interface CheckpointEntry {
  podUid: string;
  container: string;
  resource: string;
  devicesPerNuma: DevicesPerNuma;
  response: ContainerAllocateResponse;
}

/** What the device manager keeps across restarts (upstream checkpoint.Data). */
export interface DeviceManagerCheckpoint {
  entries: CheckpointEntry[];
  /** Each resource's healthy devices when written (upstream RegisteredDevices). */
  registeredDevices: Map<string, string[]>;
}

/** The checkpoint file does not parse or its checksum does not match (upstream ErrCorruptCheckpoint). */
export class CorruptCheckpointError extends Error {
  readonly code = 'DEVICE_CHECKPOINT_CORRUPT';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`checkpoint is corrupted: ${path}: ${detail}`);
    this.name = 'CorruptCheckpointError';
  }
}

interface WireEntry {
  PodUID: string;
  ContainerName: string;
  ResourceName: string;
  DeviceIDs: Record<string, string[]>;
  AllocResp: string;
}

interface WireData {
  PodDeviceEntries: WireEntry[] | null;
  RegisteredDevices: Record<string, string[]> | null;
}

/** Go's sort order of map keys for spew (int64 keys numerically, strings bytewise). */
function sortedKeys(record: Record<string, unknown>, numeric = false): string[] {
  return Object.keys(record).sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The checkpoint data as go-spew prints it for hashing (checksum.New over checkpointData; see
 * checkpoint-checksum.ts for the conventions the CPU manager's checksums follow): each struct
 * field with its Go type, slice and map elements without, a nil slice or map as `<nil>` (Go's
 * nil PodDeviceEntries of a manager holding nothing), bytes as decimal numbers.
 */
function dumpForHash(data: WireData): string {
  const strings = (list: string[]) => `[${list.join(' ')}]`;
  const entries = (data.PodDeviceEntries ?? []).map((entry) => {
    const perNuma = sortedKeys(entry.DeviceIDs, true)
      .map((node) => `${node}:${strings(entry.DeviceIDs[node]!)}`)
      .join(' ');
    return `{PodUID:(string)${entry.PodUID} ContainerName:(string)${entry.ContainerName} ResourceName:(string)${entry.ResourceName} DeviceIDs:(checkpoint.DevicesPerNUMA)map[${perNuma}] AllocResp:([]uint8)${spewBytes(Buffer.from(entry.AllocResp, 'base64'))}}`;
  });
  const registered = data.RegisteredDevices ?? {};
  const devices = sortedKeys(registered)
    .map((resource) => `${resource}:${strings(registered[resource]!)}`)
    .join(' ');
  const entryList = (data.PodDeviceEntries ?? null) === null ? '<nil>' : `[${entries.join(' ')}]`;
  const deviceMap = (data.RegisteredDevices ?? null) === null ? '<nil>' : `map[${devices}]`;
  return `(checkpoint.checkpointData){PodDeviceEntries:([]checkpoint.PodDevicesEntry)${entryList} RegisteredDevices:(map[string][]string)${deviceMap}}`;
}

function toWire(checkpoint: DeviceManagerCheckpoint): WireData {
  return {
    // Go marshals the nil slice of a manager holding nothing as null.
    PodDeviceEntries:
      checkpoint.entries.length === 0
        ? null
        : checkpoint.entries.map((entry) => ({
            PodUID: entry.podUid,
            ContainerName: entry.container,
            ResourceName: entry.resource,
            DeviceIDs: Object.fromEntries(
              [...entry.devicesPerNuma].map(([node, ids]) => [String(node), ids]),
            ),
            AllocResp: encodeContainerAllocateResponse(entry.response).toString('base64'),
          })),
    RegisteredDevices: Object.fromEntries(checkpoint.registeredDevices),
  };
}

/** Upstream MarshalCheckpoint: `{"Data":{...},"Checksum":n}`. */
export function formatDeviceCheckpoint(checkpoint: DeviceManagerCheckpoint): string {
  const data = toWire(checkpoint);
  return JSON.stringify({ Data: data, Checksum: fnv32a(dumpForHash(data)) });
}

/** Upstream UnmarshalCheckpoint + VerifyChecksum; throws CorruptCheckpointError. */
export function parseDeviceCheckpoint(text: string, path: string): DeviceManagerCheckpoint {
  let parsed: { Data?: WireData; Checksum?: number };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new CorruptCheckpointError(path, (error as Error).message);
  }
  const data = parsed.Data;
  if (!data || typeof data !== 'object') throw new CorruptCheckpointError(path, 'no Data');
  if (parsed.Checksum !== fnv32a(dumpForHash(data)))
    throw new CorruptCheckpointError(path, 'checksum mismatch');
  const entries: CheckpointEntry[] = [];
  for (const entry of data.PodDeviceEntries ?? []) {
    const devicesPerNuma: DevicesPerNuma = new Map();
    for (const [node, ids] of Object.entries(entry.DeviceIDs ?? {}))
      devicesPerNuma.set(Number(node), [...ids]);
    entries.push({
      podUid: entry.PodUID,
      container: entry.ContainerName,
      resource: entry.ResourceName,
      devicesPerNuma,
      response: decodeContainerAllocateResponse(
        Buffer.from(entry.AllocResp ?? '', 'base64'),
      ) as ContainerAllocateResponse,
    });
  }
  return { entries, registeredDevices: new Map(Object.entries(data.RegisteredDevices ?? {})) };
}
