import { join } from 'node:path';
import { checkpointChecksum } from './checkpoint-checksum';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file';
import { ResourceManagerError } from './resource-manager-error';

/** Upstream's memoryManagerStateFileName, under --root-dir. */
export const memoryManagerStateFile = 'memory_manager_state';

/**
 * The checksum of a memory manager checkpoint with no NUMA machine state and no assignments
 * (what the None policy keeps): v1.36 with PodLevelResourceManagers off writes
 * MemoryManagerCheckpointV1 hashed under the legacy name MemoryManagerCheckpoint.
 */
export function memoryCheckpointChecksum(
  policyName: string,
  typeName = 'state.MemoryManagerCheckpoint',
): number {
  return checkpointChecksum(typeName, [
    { name: 'PolicyName', goType: 'string', value: policyName },
    { name: 'MachineState', goType: 'state.NUMANodeMap', value: {} },
    { name: 'Entries', goType: 'state.ContainerMemoryAssignments', value: {} },
    { name: 'Checksum', goType: 'checksum.Checksum', value: 0 },
  ]);
}

/** The checkpoint's text as upstream writes it for the None policy. */
export function encodeMemoryManagerCheckpoint(policyName: string): string {
  return JSON.stringify({ policyName, machineState: {}, checksum: memoryCheckpointChecksum(policyName) });
}

/** Why the checkpoint text cannot be restored under `policyName`, or undefined. */
function restoreProblem(text: string, policyName: string): string | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = (JSON.parse(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    return text.trim() === '' ? 'unexpected end of JSON input' : (error as Error).message;
  }
  const name = typeof parsed.policyName === 'string' ? parsed.policyName : '';
  const checksum = typeof parsed.checksum === 'number' ? parsed.checksum : 0;
  const empty =
    Object.keys((parsed.machineState ?? {}) as object).length === 0 &&
    Object.keys((parsed.entries ?? {}) as object).length === 0;
  // Machine state and assignments are only ever written by the Static policy, which this
  // kubelet refuses; such a file came from another kubelet and is checked by its policy below.
  if (empty && checksum !== 0) {
    const accepted = ['state.MemoryManagerCheckpointV1', 'state.MemoryManagerCheckpoint'].map((type) =>
      memoryCheckpointChecksum(name, type),
    );
    if (!accepted.includes(checksum)) return 'checkpoint is corrupted';
  }
  if (name !== policyName)
    return `[memorymanager] configured policy ${JSON.stringify(policyName)} differs from state checkpoint policy ${JSON.stringify(name)}`;
  return undefined;
}

/**
 * The memory manager's checkpoint (upstream memorymanager NewCheckpointState) for the None
 * policy, the only one this kubelet has: written when missing, and a file written under another
 * policy (or corrupted) refuses the start with upstream's text.
 */
export function startMemoryManagerCheckpoint(rootDir: string, policyName: string): void {
  const path = join(rootDir, memoryManagerStateFile);
  const text = readCheckpointFile(path);
  if (text === undefined) {
    writeCheckpointFile(path, encodeMemoryManagerCheckpoint(policyName));
    return;
  }
  const problem = restoreProblem(text, policyName);
  if (problem === undefined) return;
  const message = `could not restore state from checkpoint: ${problem}, please drain this node and delete the memory manager checkpoint file ${JSON.stringify(path)} before restarting Kubelet`;
  throw new ResourceManagerError('memoryManagerPolicy', policyName, `start memory manager error: ${message}`);
}
