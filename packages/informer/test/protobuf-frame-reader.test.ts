import { describe, expect, it } from 'vitest';
import { FrameReader } from '../src/protobuf/frame-reader';

function framed(payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((p) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(p.length);
      return [length, p];
    }),
  );
}

/** The frames read from `stream` fed as the given chunks. */
function read(stream: Buffer, cuts: number[]): { frames: string[]; reader: FrameReader } {
  const reader = new FrameReader();
  const frames: string[] = [];
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    reader.push(stream.subarray(from, at), (buf, start, end) => {
      frames.push(buf.subarray(start, end).toString('hex'));
      return true;
    });
    from = at;
  }
  return { frames, reader };
}

describe('FrameReader', () => {
  const payloads = [
    Buffer.from('first'),
    Buffer.alloc(0),
    Buffer.from([0, 1, 2, 0xff]),
    Buffer.alloc(300, 7),
  ];
  const stream = framed(payloads);
  const want = payloads.map((p) => p.toString('hex'));

  it('reads frames split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const got = read(stream, [cut]);
      expect(got.frames, `cut at ${cut}`).toEqual(want);
      expect(got.reader.midFrame).toBe(false);
    }
  });

  it('reads a stream fed one byte at a time', () => {
    expect(
      read(
        stream,
        Array.from({ length: stream.length }, (_, i) => i),
      ).frames,
    ).toEqual(want);
  });

  it('hands a frame inside one chunk over as a view of that chunk (no copy)', () => {
    const seen: Buffer[] = [];
    new FrameReader().push(stream, (buf) => {
      seen.push(buf);
      return true;
    });
    expect(seen.every((b) => b === stream)).toBe(true);
  });

  it('assembles every split frame in one buffer it keeps, read before the next frame overwrites it', () => {
    const big = Buffer.alloc(300 * 1024, 9);
    const split = framed([Buffer.alloc(5000, 1), Buffer.alloc(6000, 2), big, Buffer.alloc(7000, 3)]);
    const reader = new FrameReader();
    const seen: { memory: ArrayBufferLike; bytes: string }[] = [];
    // Cut in the middle of every frame, one byte at a time.
    for (let i = 0; i < split.length; i++)
      reader.push(split.subarray(i, i + 1), (buf, start, end) => {
        const f = buf.subarray(start, end);
        seen.push({ memory: f.buffer, bytes: `${f.length}:${f[0]}:${f[f.length - 1]}` });
        return true;
      });
    expect(seen.map((s) => s.bytes)).toEqual(['5000:1:1', '6000:2:2', `${300 * 1024}:9:9`, '7000:3:3']);
    expect(seen[1]?.memory).toBe(seen[0]?.memory);
    // A frame over 256 KiB is assembled on its own and not kept.
    expect(seen[2]?.memory).not.toBe(seen[0]?.memory);
    expect(seen[3]?.memory).not.toBe(seen[2]?.memory);
  });

  it('stops when told to and reports a stream cut inside a frame', () => {
    let n = 0;
    new FrameReader().push(stream, () => ++n < 2);
    expect(n).toBe(2);
    expect(read(stream, [6]).reader.midFrame).toBe(false);
    const cutShort = new FrameReader();
    cutShort.push(stream.subarray(0, 6), () => true);
    expect(cutShort.midFrame).toBe(true);
  });

  it('refuses a length over 100 MiB instead of allocating it', () => {
    expect(() => new FrameReader().push(Buffer.from([0x10, 0, 0, 0, 1]), () => true)).toThrow(/over the/);
  });
});
