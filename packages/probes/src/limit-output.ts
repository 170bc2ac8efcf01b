import { MAX_PROBE_OUTPUT_BYTES } from './probe-defaults';

/** Keeps the first 10 KiB of probe output, as the kubelet's LimitWriter / LimitReader do. */
export function limitOutput(data: string | Buffer, maxBytes = MAX_PROBE_OUTPUT_BYTES): string {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return (buf.length > maxBytes ? buf.subarray(0, maxBytes) : buf).toString('utf8');
}

/** Collects chunks up to a byte cap, dropping the rest, so a huge body never sits in memory. */
export class LimitedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes = MAX_PROBE_OUTPUT_BYTES) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.size;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  get full(): boolean {
    return this.size >= this.maxBytes;
  }

  toString(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
