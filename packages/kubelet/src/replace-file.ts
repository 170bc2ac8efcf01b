import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';

/** How a file is replaced: its permissions and the temporary sibling it is written through. */
export interface ReplaceFileOptions {
  /** The file's permission bits when it is created (the temporary file's, kept by the rename). */
  mode: number;
  /**
   * The temporary file, in the target's directory so the rename stays on one file system. Each
   * caller names it as upstream's writer does where a reader skips those names.
   */
  temporaryPath: string;
}

/**
 * Replaces a file so that a crash or power loss leaves the old content or the new, never part of
 * either: written to a temporary sibling, synced, then renamed over the target, as upstream's
 * utilstore.FileStore writes checkpoints, user-namespace mappings and the shutdown state. The
 * temporary file is removed when the write or the rename fails.
 */
export async function replaceFile(path: string, content: string, options: ReplaceFileOptions): Promise<void> {
  try {
    const file = await open(options.temporaryPath, 'w', options.mode);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(options.temporaryPath, path);
  } catch (error) {
    await rm(options.temporaryPath, { force: true });
    throw error;
  }
}

/**
 * {@link replaceFile} without yielding, for writers whose state must be on disk before the caller
 * goes on (the CPU manager's checkpoint before the allocation it records is used).
 */
export function replaceFileSync(path: string, content: string, options: ReplaceFileOptions): void {
  try {
    const fd = openSync(options.temporaryPath, 'w', options.mode);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(options.temporaryPath, path);
  } catch (error) {
    rmSync(options.temporaryPath, { force: true });
    throw error;
  }
}
