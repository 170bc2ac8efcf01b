import { ProtobufDecodeError } from './errors';

/** A frame larger than this is refused as corrupt rather than buffered (client-go's default limit is 100 MiB too). */
const MAX_FRAME = 100 * 1024 * 1024;

/** The assembly buffer is kept for the next split frame up to this size (an EndpointSlice of 1,000 endpoints fits). */
const KEPT_ASSEMBLY = 256 * 1024;

/**
 * Splits a protobuf watch stream (each frame a 4-byte big-endian length, then that many bytes)
 * as its chunks arrive. A frame inside one chunk is handed over as a view of that chunk (no
 * copy); a frame split over chunks is assembled, once, into one buffer the reader keeps for the
 * next such frame. `onFrame` must be done with the bytes when it returns (the decoders copy
 * what they keep): a relist streams thousands of split frames, and a buffer each was external
 * memory that only a collection freed, piling up between collections when the decode itself
 * allocates little.
 */
export class FrameReader {
  /** The length prefix's bytes read so far, when it was split over chunks. */
  private header = 0;
  private headerBytes = 0;
  /** The frame being assembled over chunks (a view of `assembly`), and how much of it has arrived. */
  private partial: Buffer | undefined;
  private filled = 0;
  /** Where split frames are assembled, grown as needed; kept while at most KEPT_ASSEMBLY bytes. */
  private assembly: Buffer | undefined;

  /**
   * Hands each frame `chunk` completes to `onFrame` (the buffer and the frame's start and end
   * in it). Stops at once, dropping the rest, when `onFrame` returns false.
   */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => boolean): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.partial) {
        const take = Math.min(this.partial.length - this.filled, n - pos);
        chunk.copy(this.partial, this.filled, pos, pos + take);
        this.filled += take;
        pos += take;
        if (this.filled < this.partial.length) return;
        const frame = this.partial;
        this.partial = undefined;
        const more = onFrame(frame, 0, frame.length);
        if (this.assembly && this.assembly.length > KEPT_ASSEMBLY) this.assembly = undefined;
        if (!more) return;
        continue;
      }
      if (this.headerBytes === 0 && pos + 4 <= n) {
        const length = chunk.readUInt32BE(pos);
        pos += 4;
        if (pos + length <= n) {
          if (!onFrame(chunk, pos, pos + length)) return;
          pos += length;
        } else this.startPartial(length);
        continue;
      }
      // A length prefix split over chunks: one byte at a time.
      this.header = this.header * 256 + chunk[pos++]!;
      if (++this.headerBytes === 4) {
        const length = this.header;
        this.header = 0;
        this.headerBytes = 0;
        if (length === 0) {
          if (!onFrame(chunk, pos, pos)) return;
        } else this.startPartial(length);
      }
    }
  }

  private startPartial(length: number): void {
    if (length > MAX_FRAME)
      throw new ProtobufDecodeError('watch frame', 0, `length ${length} is over the ${MAX_FRAME}-byte limit`);
    if (!this.assembly || this.assembly.length < length)
      this.assembly = Buffer.allocUnsafe(
        Math.max(length, this.assembly ? this.assembly.length * 2 : 16 * 1024),
      );
    this.partial = this.assembly.subarray(0, length);
    this.filled = 0;
  }

  /** Whether the stream stopped inside a frame (a truncated last event). */
  get midFrame(): boolean {
    return this.partial !== undefined || this.headerBytes > 0;
  }
}
