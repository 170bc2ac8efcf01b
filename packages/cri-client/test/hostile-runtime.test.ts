import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { messageCodec } from '../src/codec';
import { CriClient } from '../src/cri-client';
import { CriError } from '../src/cri-error';
import type { ListContainersResponse } from '../src/generated/types';

/**
 * A hostile or broken runtime: a node:http2 server on a unix socket in a per-run temp dir that
 * answers each call as the test says. Every case checks that the kubelet's client fails with a
 * CriError naming the RPC and the status code grpc-go reports for the same bytes, holds no more
 * memory than the limit allows, and makes the next call as if nothing happened.
 */
type Answer = (stream: http2.ServerHttp2Stream) => void;

const GRPC = { ':status': 200, 'content-type': 'application/grpc' };

/** A gRPC message frame: flag, big-endian length, bytes. */
function frame(bytes: Uint8Array, flag = 0, length = bytes.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(length, 1);
  return Buffer.concat([head, bytes]);
}

/** Answers with `body` (already framed) and grpc-status 0. */
const reply =
  (body: Buffer): Answer =>
  (stream) => {
    stream.respond(GRPC, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(body);
  };

const containers = messageCodec<ListContainersResponse>('ListContainersResponse');
const oneContainer = containers.encode({
  containers: [{ id: 'c1', podSandboxId: 'p1', state: 1, createdAt: 1n, metadata: { name: 'app' } }],
});
const healthy = reply(frame(oneContainer));

let dir: string;
let server: http2.Http2Server;
let answer: Answer;
let client: CriClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'na-hostile-cri-'));
  const socket = join(dir, 'runtime.sock');
  server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.resume();
    stream.on('end', () => answer(stream));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  client = new CriClient({ endpoint: `unix://${socket}`, timeoutMs: 60_000 });
});

afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  answer = healthy;
});

/** The CriError ListContainers fails with under the current answer; then the client lists again. */
async function listFails(timeoutMs?: number): Promise<CriError> {
  const e = await client.listContainers({}, { timeoutMs }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CriError);
  const err = e as CriError;
  expect(err.rpc).toBe('ListContainers');
  expect(err.message.startsWith('ListContainers: ') || err.message.includes('(ListContainers)')).toBe(true);
  answer = healthy;
  expect((await client.listContainers({})).containers.map((c) => c.id)).toEqual(['c1']);
  return err;
}

/** Answers with grpc-status `code` and `message` in trailers, no message. */
const failWith =
  (code: string, message: string): Answer =>
  (stream) => {
    stream.respond(GRPC, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': code, 'grpc-message': message }));
    stream.end();
  };

/** Bytes the runtime's process holds in buffers (the answers' backing stores count here). */
const buffered = () => process.memoryUsage().arrayBuffers;

describe('a hostile runtime (the client fails the call with a CriError and lists again after)', () => {
  it('a truncated message: INTERNAL, a parsing error', async () => {
    answer = reply(frame(oneContainer.subarray(0, oneContainer.length - 3)));
    const e = await listFails();
    expect(e.codeName).toBe('INTERNAL');
    expect(e.details).toMatch(/^Response message parsing error: /);
  });

  it('bytes that are not protobuf (an invalid wire type, a length past the end): INTERNAL', async () => {
    answer = reply(frame(Buffer.from([0x0f, 0xff, 0xff])));
    expect((await listFails()).codeName).toBe('INTERNAL');
    answer = reply(frame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x01])));
    expect((await listFails()).codeName).toBe('INTERNAL');
  });

  it('another message type whose field 1 cannot be a Container: INTERNAL, as proto.Unmarshal fails', async () => {
    // A VersionResponse: field 1 is the string "0.1.0", which does not parse as a Container.
    const version = messageCodec('VersionResponse').encode({ version: '0.1.0', runtimeName: 'x' } as never);
    answer = reply(frame(version));
    expect((await listFails()).codeName).toBe('INTERNAL');
  });

  it('a length prefix over 16 MiB (2 GiB claimed): RESOURCE_EXHAUSTED at the prefix, nothing allocated for it', async () => {
    let sent = 0;
    answer = (stream) => {
      stream.respond(GRPC);
      // The claimed 2 GiB never comes: 1 MiB follows and the stream stays open.
      const chunk = Buffer.alloc(1 << 20, 1);
      stream.write(frame(chunk, 0, 2 ** 31), () => {
        sent += chunk.length;
      });
    };
    const before = buffered();
    const e = await listFails();
    expect([e.codeName, e.details]).toEqual([
      'RESOURCE_EXHAUSTED',
      `Received message larger than max (${2 ** 31} vs. 16777216)`,
    ]);
    expect(buffered() - before).toBeLessThan(64 << 20);
    expect(sent).toBeLessThanOrEqual(1 << 20);
  });

  it('bytes past the one message of a unary answer: INTERNAL at once, not buffered without end', async () => {
    let stopped: Promise<number> | undefined;
    answer = (stream) => {
      stream.respond(GRPC);
      stopped = new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode)));
      stream.write(frame(oneContainer));
      // A second message and then as much as the runtime likes: the client cancels.
      const more = Buffer.alloc(1 << 16, 0);
      const pump = () => {
        while (!stream.destroyed && stream.write(more));
        if (!stream.destroyed) stream.once('drain', pump);
      };
      pump();
    };
    const e = await listFails();
    expect(e.codeName).toBe('INTERNAL');
    expect(e.details).toMatch(/^cardinality violation/);
    expect(await stopped).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('a compressed flag without grpc-encoding: INTERNAL', async () => {
    answer = reply(frame(oneContainer, 1));
    const e = await listFails();
    expect([e.codeName, e.details]).toEqual(['INTERNAL', 'Compressed message without grpc-encoding']);
  });

  it('an answer that never ends: DEADLINE_EXCEEDED at the call deadline, the stream cancelled', async () => {
    let cancelled: Promise<number> | undefined;
    answer = (stream) => {
      stream.respond(GRPC);
      stream.write(frame(oneContainer).subarray(0, 4));
      cancelled = new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode)));
    };
    const e = await listFails(100);
    expect(e.codeName).toBe('DEADLINE_EXCEEDED');
    expect(await cancelled).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it("a non-zero grpc-status keeps the runtime's code and message (60 kB, under nghttp2's 64 KiB field limit)", async () => {
    const long = 'no-such-container-'.repeat(3000);
    answer = failWith('5', encodeURIComponent(long));
    const e = await listFails();
    expect([e.codeName, e.details]).toEqual(['NOT_FOUND', long]);
  });

  it('a grpc-message of 1 MiB (over nghttp2 64 KiB field limit): INTERNAL, not "runtime unreachable"', async () => {
    answer = failWith('2', 'x'.repeat(1 << 20));
    const e = await listFails();
    expect([e.codeName, e.details]).toEqual([
      'INTERNAL',
      'stream terminated by RST_STREAM with error code: FRAME_SIZE_ERROR',
    ]);
  });

  it('a reset (INTERNAL_ERROR) mid-answer: INTERNAL, as grpc-go', async () => {
    // Node's client stream does not expose the code of a reset it received after the answer's
    // headers (rstCode stays 0), so every such reset reads as an answer without trailers: INTERNAL.
    answer = (stream) => {
      stream.respond(GRPC);
      stream.write(frame(oneContainer).subarray(0, 8), () =>
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
      );
    };
    const e = await listFails();
    expect([e.codeName, e.details]).toEqual([
      'INTERNAL',
      'server closed the stream without sending trailers',
    ]);
  });

  it('GOAWAY and the connection closed mid-answer: UNAVAILABLE, and a new connection for the next call', async () => {
    answer = (stream) => {
      stream.respond(GRPC);
      stream.write(frame(oneContainer).subarray(0, 8), () => {
        stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id as number);
        stream.session?.destroy();
      });
    };
    expect((await listFails()).codeName).toBe('UNAVAILABLE');
  });

  it('extreme field values decode as sent: a 1 MiB id, int64 extremes, an unknown enum value', async () => {
    const id = 'a'.repeat(1 << 20);
    const bytes = containers.encode({
      containers: [
        { id, state: 99 as never, createdAt: -(2n ** 63n) },
        { id: 'c2', state: -1 as never, createdAt: 2n ** 63n - 1n },
      ],
    });
    answer = reply(frame(bytes));
    const got = (await client.listContainers({})).containers;
    expect(got.map((c) => [c.id.length, c.state, c.createdAt])).toEqual([
      [1 << 20, 99, -(2n ** 63n)],
      [2, -1, 2n ** 63n - 1n],
    ]);
  });
});
