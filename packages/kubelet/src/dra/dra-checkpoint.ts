import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CodedError } from '@nodeagent/primitives';
import { goJson, goSortedMap } from '@nodeagent/primitives/go-text';
import { readCheckpointFile, writeCheckpointFile } from '../cpumanager/checkpoint-file';
import type { ClaimInfoState, PreparedDevice } from './claim-info';

/** The checkpoint's file under --root-dir (upstream draManagerStateFileName). */
export const DRA_MANAGER_STATE_FILE = 'dra_manager_state';

/** The checkpoint data's kind and apiVersion (upstream state.CheckpointKind, CheckpointAPIVersion). */
const CHECKPOINT_KIND = 'DRACheckpoint';
const CHECKPOINT_API_VERSION = 'checkpoint.dra.kubelet.k8s.io/v1';

/**
 * The DRA checkpoint does not parse or its checksum does not match (upstream's
 * CorruptCheckpointError, as NewManager wraps it); `path` names the file to remove after draining.
 */
export class CorruptDraCheckpointError extends CodedError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(
      'DRA_CHECKPOINT_CORRUPT',
      `create ResourceClaim cache: GetOrCreate() on checkpoint state: failed to get checkpoint ${DRA_MANAGER_STATE_FILE}: ${detail}`,
    );
  }
}

/** One device as Go's encoding/json writes state.Device (fields in declaration order, nil as null). */
interface WireDevice {
  PoolName: string;
  DeviceName: string;
  ShareID: string | null;
  RequestNames: string[] | null;
  CDIDeviceIDs: string[] | null;
}

interface WireEntry {
  ClaimUID: string;
  ClaimName: string;
  Namespace: string;
  /** sets.Set[string]: a map to empty structs. */
  PodUIDs: Record<string, Record<string, never>> | null;
  DriverState: Record<string, { Devices: WireDevice[] | null }> | null;
}

interface WireData {
  kind?: string;
  apiVersion?: string;
  Entries: WireEntry[] | null;
}

function emptyAsNull<T>(list: T[]): T[] | null {
  return list.length === 0 ? null : list;
}

function toWire(state: ClaimInfoState): WireEntry {
  return {
    ClaimUID: state.claimUid,
    ClaimName: state.claimName,
    Namespace: state.namespace,
    PodUIDs: goSortedMap([...state.podUids].map((uid) => [uid, {}])),
    DriverState: goSortedMap(
      [...state.driverState].map(([driver, devices]) => [
        driver,
        {
          Devices: emptyAsNull(
            devices.map((d) => ({
              PoolName: d.poolName,
              DeviceName: d.deviceName,
              ShareID: d.shareId ?? null,
              RequestNames: emptyAsNull(d.requestNames),
              CDIDeviceIDs: emptyAsNull(d.cdiDeviceIds),
            })),
          ),
        },
      ]),
    ),
  };
}

function fromWire(entry: WireEntry): ClaimInfoState {
  const device = (d: WireDevice): PreparedDevice => ({
    poolName: d.PoolName ?? '',
    deviceName: d.DeviceName ?? '',
    ...(d.ShareID ? { shareId: d.ShareID } : {}),
    requestNames: d.RequestNames ?? [],
    cdiDeviceIds: d.CDIDeviceIDs ?? [],
  });
  return {
    claimUid: entry.ClaimUID ?? '',
    claimName: entry.ClaimName ?? '',
    namespace: entry.Namespace ?? '',
    podUids: new Set(Object.keys(entry.PodUIDs ?? {})),
    driverState: new Map(
      Object.entries(entry.DriverState ?? {}).map(([driver, s]) => [driver, (s.Devices ?? []).map(device)]),
    ),
  };
}

/**
 * The checkpoint file's text (upstream state.Checkpoint): `{"Data":…,"Checksum":…}` where Data is
 * the JSON of the kind, apiVersion and entries and Checksum its CRC-32 (IEEE).
 */
export function encodeDraCheckpoint(states: readonly ClaimInfoState[]): string {
  const sorted = [...states].sort((a, b) =>
    `${a.namespace}/${a.claimName}` < `${b.namespace}/${b.claimName}` ? -1 : 1,
  );
  const data: WireData = {
    kind: CHECKPOINT_KIND,
    apiVersion: CHECKPOINT_API_VERSION,
    Entries: sorted.map(toWire),
  };
  const text = goJson(data);
  return goJson({ Data: text, Checksum: crc32(Buffer.from(text, 'utf8')) });
}

/** The entries of a checkpoint file's text; throws CorruptDraCheckpointError on bad JSON or a checksum mismatch. */
export function decodeDraCheckpoint(path: string, text: string): ClaimInfoState[] {
  let outer: { Data?: unknown; Checksum?: unknown };
  let data: WireData;
  try {
    outer = JSON.parse(text) as typeof outer;
    if (typeof outer.Data !== 'string') throw new Error('no Data');
  } catch (error) {
    throw new CorruptDraCheckpointError(path, (error as Error).message);
  }
  const expected = crc32(Buffer.from(outer.Data, 'utf8'));
  if (expected !== outer.Checksum) throw new CorruptDraCheckpointError(path, 'checkpoint is corrupted');
  try {
    data = JSON.parse(outer.Data) as WireData;
  } catch (error) {
    throw new CorruptDraCheckpointError(path, (error as Error).message);
  }
  return (data.Entries ?? []).map(fromWire);
}

/**
 * The DRA manager's checkpoint at `<root-dir>/dra_manager_state` (upstream's checkpointer):
 * read once at start (written empty when missing, as upstream's GetOrCreate), then rewritten
 * whole at each change, through a synced temporary file.
 */
export class DraCheckpoint {
  readonly path: string;

  constructor(rootDir: string) {
    this.path = join(rootDir, DRA_MANAGER_STATE_FILE);
  }

  /** The stored claims; a missing file is created empty. Throws CorruptDraCheckpointError for a bad one. */
  getOrCreate(): ClaimInfoState[] {
    const text = readCheckpointFile(this.path);
    if (text === undefined) {
      // The manager is built before the kubelet's start makes --root-dir.
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      this.store([]);
      return [];
    }
    return decodeDraCheckpoint(this.path, text);
  }

  store(states: readonly ClaimInfoState[]): void {
    writeCheckpointFile(this.path, encodeDraCheckpoint(states));
  }
}
