import { join } from 'node:path';
import { checkpointChecksum, type GoDumpField } from './checkpoint-checksum';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file';
import { CpuSet } from './cpu-set';
import { ResourceManagerError } from './resource-manager-error';

/** Upstream's cpuManagerStateFileName, under --root-dir. */
export const cpuManagerStateFile = 'cpu_manager_state';

/** Pod UID → container name → its exclusive CPUs (upstream ContainerCPUAssignments). */
export type CpuAssignments = Map<string, Map<string, CpuSet>>;

/** What the CPU manager keeps: its policy, the shared pool and the exclusive assignments. */
export interface CpuManagerState {
  policyName: string;
  /** The shared pool (upstream's default CPU set); empty under the none policy. */
  defaultCpuSet: CpuSet;
  assignments: CpuAssignments;
}

type Entries = Record<string, Record<string, string>>;

/** The checkpoint struct's fields as spew prints them, in declaration order. */
function dumpFields(
  policyName: string,
  defaultCpuSet: string,
  entries: GoDumpField['value'],
  entriesType: string,
) {
  return [
    { name: 'PolicyName', goType: 'string', value: policyName },
    { name: 'DefaultCPUSet', goType: 'string', value: defaultCpuSet },
    { name: 'Entries', goType: entriesType, value: entries },
    { name: 'Checksum', goType: 'checksum.Checksum', value: 0 },
  ];
}

/**
 * The checksum upstream writes (v1.36 with PodLevelResourceManagers off: CPUManagerCheckpointV2,
 * hashed under the legacy struct name CPUManagerCheckpoint so older kubelets read it back).
 */
export function cpuCheckpointChecksum(policyName: string, defaultCpuSet: string, entries: Entries): number {
  return checkpointChecksum(
    'state.CPUManagerCheckpoint',
    dumpFields(policyName, defaultCpuSet, entries, 'map[string]map[string]string'),
  );
}

/** Go's json.Marshal of a map: keys in sorted order. */
function sortedObject<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The checkpoint's text exactly as upstream's json.Marshal writes it (entries omitted when empty). */
export function encodeCpuManagerCheckpoint(state: CpuManagerState): string {
  const entries: Entries = {};
  for (const [pod, containers] of state.assignments) {
    entries[pod] = sortedObject(
      Object.fromEntries([...containers].map(([name, cpus]) => [name, cpus.toString()])),
    );
  }
  const defaultCpuSet = state.defaultCpuSet.toString();
  const checksum = cpuCheckpointChecksum(state.policyName, defaultCpuSet, entries);
  return JSON.stringify({
    policyName: state.policyName,
    defaultCpuSet,
    ...(Object.keys(entries).length > 0 ? { entries: sortedObject(entries) } : {}),
    checksum,
  });
}

interface DecodedCheckpoint {
  policyName: string;
  defaultCpuSet: string;
  entries: Entries;
}

/** Go's json.Unmarshal into the checkpoint struct, as far as a field's type goes. */
function decodeJson(text: string): DecodedCheckpoint & { checksum: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(text.trim() === '' ? 'unexpected end of JSON input' : (error as Error).message);
  }
  const object = (parsed ?? {}) as Record<string, unknown>;
  const entries = (object.entries ?? {}) as Entries;
  for (const containers of Object.values(entries)) {
    if (typeof containers !== 'object' || containers === null)
      throw new Error(
        'json: cannot unmarshal string into Go struct field CPUManagerCheckpointV2.entries of type map[string]string',
      );
  }
  return {
    policyName: typeof object.policyName === 'string' ? object.policyName : '',
    defaultCpuSet: typeof object.defaultCpuSet === 'string' ? object.defaultCpuSet : '',
    entries,
    checksum: typeof object.checksum === 'number' ? object.checksum : 0,
  };
}

/**
 * Upstream's V2 VerifyChecksum: 0 is accepted (the old file backend wrote none); otherwise the
 * checksum under the V2 struct name or the legacy one.
 */
function verifyChecksum(checkpoint: ReturnType<typeof decodeJson>): void {
  if (checkpoint.checksum === 0) return;
  const fields = dumpFields(
    checkpoint.policyName,
    checkpoint.defaultCpuSet,
    checkpoint.entries,
    'map[string]map[string]string',
  );
  const accepted = ['state.CPUManagerCheckpointV2', 'state.CPUManagerCheckpoint'].map((name) =>
    checkpointChecksum(name, fields),
  );
  if (!accepted.includes(checkpoint.checksum)) throw new Error('checkpoint is corrupted');
}

/** Upstream restoreState past the file read: the policy must match and every set must parse. */
function restore(checkpoint: DecodedCheckpoint, policyName: string): CpuManagerState {
  if (checkpoint.policyName !== policyName)
    throw new Error(
      `configured policy ${JSON.stringify(policyName)} differs from state checkpoint policy ${JSON.stringify(checkpoint.policyName)}`,
    );
  let defaultCpuSet: CpuSet;
  try {
    defaultCpuSet = CpuSet.parse(checkpoint.defaultCpuSet);
  } catch (error) {
    throw new Error(
      `could not parse default cpu set ${JSON.stringify(checkpoint.defaultCpuSet)}: ${(error as Error).message}`,
    );
  }
  const assignments: CpuAssignments = new Map();
  for (const [pod, containers] of Object.entries(checkpoint.entries)) {
    const parsed = new Map<string, CpuSet>();
    for (const [container, text] of Object.entries(containers)) {
      try {
        parsed.set(container, CpuSet.parse(text));
      } catch (error) {
        throw new Error(
          `could not parse cpuset ${JSON.stringify(text)} for container ${JSON.stringify(container)} in pod ${JSON.stringify(pod)}: ${(error as Error).message}`,
        );
      }
    }
    assignments.set(pod, parsed);
  }
  return { policyName, defaultCpuSet, assignments };
}

/**
 * The CPU manager's checkpoint under --root-dir (upstream NewCheckpointState): restored when
 * present, written fresh (empty sets) when not. A file that cannot be restored refuses the
 * start with upstream's text, which names the file and says to drain the node and delete it.
 */
export class CpuManagerCheckpoint {
  readonly path: string;

  constructor(rootDir: string) {
    this.path = join(rootDir, cpuManagerStateFile);
  }

  /** The restored state; throws ResourceManagerError with upstream's text when it cannot be. */
  restore(policyName: string): CpuManagerState {
    try {
      const text = readCheckpointFile(this.path);
      if (text === undefined) {
        const fresh = { policyName, defaultCpuSet: new CpuSet(), assignments: new Map() };
        this.store(fresh);
        return fresh;
      }
      const checkpoint = decodeJson(text);
      verifyChecksum(checkpoint);
      return restore(checkpoint, policyName);
    } catch (error) {
      const message = `could not restore state from checkpoint: ${(error as Error).message}, please drain this node and delete the CPU manager checkpoint file ${JSON.stringify(this.path)} before restarting Kubelet`;
      throw new ResourceManagerError('cpuManagerPolicy', policyName, `start cpu manager error: ${message}`);
    }
  }

  /** Writes the state (upstream storeState, after every change). */
  store(state: CpuManagerState): void {
    writeCheckpointFile(this.path, encodeCpuManagerCheckpoint(state));
  }
}
