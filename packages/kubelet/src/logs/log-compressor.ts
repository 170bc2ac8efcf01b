import { access, rm } from 'node:fs/promises';
import { compareRotatedLogs, compressLog, compressSuffix } from './rotated-log-files';

/**
 * Gzips rotated logs in the background, one file at a time, so a rotation never waits for
 * compression (upstream compresses inside the rotation, which then falls behind a fast writer).
 * The newest queued file goes first: it is the one that stays longest. A file the rotation
 * removes (beyond containerLogMaxFiles) is dropped from the queue, or its compression abandoned.
 */
export class LogCompressor {
  private readonly queued = new Set<string>();
  private current: { file: string; abort: AbortController } | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly onError: (file: string, error: unknown) => void) {}

  /** Queues `files` (uncompressed rotated logs) not already queued or being compressed. */
  enqueue(files: readonly string[]): void {
    for (const file of files)
      if (!file.endsWith(compressSuffix) && this.current?.file !== file) this.queued.add(file);
    if (this.queued.size > 0 && !this.running) this.running = this.drain();
  }

  /** Forgets `file`: out of the queue, its compression (if running) abandoned and its .tmp removed. */
  cancel(file: string): void {
    this.queued.delete(file);
    if (this.current?.file === file) this.current.abort.abort();
  }

  /** Whether `file` (or its `.tmp`) belongs to a compression queued or under way. */
  owns(file: string): boolean {
    const source = file.endsWith('.tmp') ? file.slice(0, -'.tmp'.length) : file;
    return this.queued.has(source) || this.current?.file === source;
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queued.size > 0) {
        const file = [...this.queued].sort(compareRotatedLogs).at(-1)!;
        this.queued.delete(file);
        const abort = new AbortController();
        this.current = { file, abort };
        try {
          // Removed meanwhile (beyond containerLogMaxFiles, or the container's logs cleaned).
          if (!(await exists(file))) continue;
          await compressLog(file, abort.signal);
          // Cancelled as it finished: the file was removed, so is its compressed copy.
          if (abort.signal.aborted) await rm(file + compressSuffix, { force: true });
        } catch (error) {
          if (!abort.signal.aborted && (await exists(file))) this.onError(file, error);
        } finally {
          this.current = undefined;
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
