/**
 * Where the soak's preload (loop-preload.ts) sends its lines: a named pipe the bench reads, not a
 * file. A file's pages would be allocated by the agent's appends and so charged to the agent's
 * cgroup, and small appends touch each page often enough to turn it active: the report itself
 * grew the working set the soak measures by about 0.2 MiB in 40 minutes. A pipe's buffer is
 * charged to the writer only until the bench reads it, a moment later.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import type { LoopReport } from './loop-preload';

export class LoopReportPipe {
  private readonly lines: LoopReport[] = [];
  private partial = '';

  private constructor(
    /** The FIFO's path: the agent's NA_SOAK_LOOP_REPORT. */
    readonly path: string,
    private readonly reader: Socket,
    // The bench's own write end: the preload opens and closes the pipe for each line, and a pipe
    // with no writer left reads as ended.
    private readonly keepOpen: number,
  ) {
    reader.setEncoding('utf8');
    reader.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) if (line) this.lines.push(JSON.parse(line) as LoopReport);
    });
  }

  /** Makes the FIFO at `path` (mkfifo) and starts reading it. */
  static open(path: string): LoopReportPipe {
    execFileSync('mkfifo', ['-m', '0600', path]);
    // Non-blocking: opening a FIFO to read otherwise waits for a writer.
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(path, constants.O_WRONLY);
    return new LoopReportPipe(path, new Socket({ fd: read, readable: true, writable: false }), write);
  }

  /** The lines that arrived since the last call. */
  take(): LoopReport[] {
    return this.lines.splice(0);
  }

  close(): void {
    this.reader.destroy();
    closeSync(this.keepOpen);
    rmSync(this.path, { force: true });
  }
}
