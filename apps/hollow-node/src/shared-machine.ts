import { createHash } from 'node:crypto';
import { type MachineInfo, readMachineInfo } from '@nodeagent/node-status';

/**
 * The host's machine facts, read once for the whole process (what is process-wide is shared),
 * and each node's copy with its own hostname and IDs so the Nodes do not all claim one machine.
 */
export class SharedMachine {
  private host: Promise<MachineInfo> | undefined;

  constructor(private readonly rootDir: string) {}

  /** The host's facts (read at the first call). */
  hostInfo(): Promise<MachineInfo> {
    this.host ??= readMachineInfo({ rootDir: this.rootDir });
    return this.host;
  }

  /** Node `nodeName`'s machine: the host's capacity, the node's name and IDs derived from it. */
  async forNode(nodeName: string): Promise<MachineInfo> {
    const id = createHash('sha256').update(nodeName).digest('hex').slice(0, 32);
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    return { ...(await this.hostInfo()), hostname: nodeName, machineID: id, systemUUID: uuid, bootID: uuid };
  }
}
