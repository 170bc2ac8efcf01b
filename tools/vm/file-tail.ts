import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Incrementally reads a file another process (here: virtiofsd on behalf of the guest) appends to,
 * handing new bytes to `onData` and keeping them all for the final result.
 */
export class FileTail {
  private offset = 0;
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly path: string,
    private readonly onData?: (chunk: Buffer) => void,
  ) {}

  /** Reads whatever was appended since the last call. Missing file = nothing yet. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.allocUnsafe(1 << 16);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const chunk = Buffer.from(buf.subarray(0, n));
        this.chunks.push(chunk);
        this.onData?.(chunk);
      }
    } finally {
      closeSync(fd);
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
