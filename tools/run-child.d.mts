import type { SpawnOptions } from 'node:child_process';

/** How a child run by runChild ended: its exit code, and the first signal passed on to it. */
export interface ChildEnd {
  status: number;
  signal?: NodeJS.Signals;
}
export declare function runChild(command: string, args: string[], options?: SpawnOptions): Promise<ChildEnd>;
