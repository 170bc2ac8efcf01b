import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { replaceFile } from '../replace-file';

/** Upstream localStorageStateFile, under the kubelet's root directory. */
export const shutdownStateFileName = 'graceful_node_shutdown_state';

/** The last graceful shutdown's start and end, in epoch milliseconds (undefined: not recorded). */
export interface ShutdownTimes {
  startMs?: number | undefined;
  endMs?: number | undefined;
}

// Go's zero time.Time, which upstream's state struct marshals for a time not set yet.
const goZeroTime = '0001-01-01T00:00:00Z';

function goTime(ms: number | undefined): string {
  return ms === undefined ? goZeroTime : new Date(ms).toISOString();
}

function fromGoTime(text: unknown): number | undefined {
  if (typeof text !== 'string' || text === goZeroTime) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Upstream's graceful_node_shutdown_state file: JSON {"startTime","endTime"} (Go time.Time text),
 * written to a temporary sibling, synced and renamed (atomicWrite), so a node that powers off
 * mid-write keeps the previous record. The metrics are set from it again at the next start.
 */
export class ShutdownStateFile {
  constructor(private readonly path: string) {}

  /** Writes both times (an unset one as Go's zero time, as upstream stores the start alone first). */
  async store(times: ShutdownTimes): Promise<void> {
    const text = JSON.stringify({ startTime: goTime(times.startMs), endTime: goTime(times.endMs) });
    const temporaryPath = join(
      dirname(this.path),
      `.tmp-${basename(this.path)}${randomBytes(6).toString('hex')}`,
    );
    await replaceFile(this.path, text, { mode: 0o644, temporaryPath });
  }

  /** The stored times; nothing recorded when the file does not exist (upstream Load). */
  async load(): Promise<ShutdownTimes> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const state = JSON.parse(text) as { startTime?: unknown; endTime?: unknown };
    return { startMs: fromGoTime(state.startTime), endMs: fromGoTime(state.endTime) };
  }
}
