import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { replaceFileSync } from '../replace-file';

/**
 * A checkpoint's text, or undefined when the file does not exist (upstream's
 * ErrCheckpointNotFound, after which the manager writes a fresh one).
 */
export function readCheckpointFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

let tempSequence = 0;

/**
 * Upstream's checkpoint manager write (utilstore.FileStore): a temporary file beside the target
 * (".<name>…", mode 0600 as Go's os.CreateTemp makes it), synced, then renamed over the target,
 * so a crash leaves the old or the new checkpoint. Synchronous as upstream's: every state change
 * is on disk before the allocation that made it is used.
 */
export function writeCheckpointFile(path: string, text: string): void {
  const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.${++tempSequence}`);
  replaceFileSync(path, text, { mode: 0o600, temporaryPath });
}
