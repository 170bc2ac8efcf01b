import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exitFromStatus, StreamingError } from '../src/index';
import { encodeFrame, FrameParser, Opcode } from '../src/streaming/websocket-frames';

describe('WebSocket frames', () => {
  it('round-trips masked and unmasked frames of every length class, split anywhere', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 70_000 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 5000 }),
        (bytes, mask, chunk) => {
          const payload = Buffer.from(bytes);
          const wire = encodeFrame(Opcode.Binary, payload, mask);
          const parser = new FrameParser();
          const frames = [];
          for (let i = 0; i < wire.length; i += chunk)
            frames.push(...parser.push(wire.subarray(i, i + chunk)));
          expect(frames).toHaveLength(1);
          expect(frames[0]?.opcode).toBe(Opcode.Binary);
          expect(frames[0]?.fin).toBe(true);
          expect(frames[0]?.payload.equals(payload)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sets the mask bit only for client frames', () => {
    expect((encodeFrame(Opcode.Binary, Buffer.from('x'), true)[1] ?? 0) & 0x80).toBe(0x80);
    expect([...encodeFrame(Opcode.Binary, Buffer.from('x'), false)]).toEqual([0x82, 0x01, 0x78]);
  });
});

describe('remote-command exit status', () => {
  it('maps Success to 0 and NonZeroExitCode to its code', () => {
    expect(exitFromStatus({ status: 'Success' }).exitCode).toBe(0);
    expect(
      exitFromStatus({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '42' }] },
      }).exitCode,
    ).toBe(42);
  });

  it('turns other failures into a StreamingError carrying the message', () => {
    const e = (() => {
      try {
        exitFromStatus({ status: 'Failure', message: 'container not running' });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(StreamingError);
    expect((e as StreamingError).message).toBe('container not running');
  });
});
