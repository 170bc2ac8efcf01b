import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GrpcCallError, GrpcUnaryChannel } from '../src/unary-channel';

/** What the test server does with one call: its headers, body frames and trailers. */
type Answer = (stream: http2.ServerHttp2Stream, request: Buffer, headers: http2.IncomingHttpHeaders) => void;

/** A gRPC message frame: flag, big-endian length, bytes. */
function frame(bytes: Buffer, compressed = 0): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = compressed;
  out.writeUInt32BE(bytes.length, 1);
  bytes.copy(out, 5);
  return out;
}

const ok: Answer = (stream, request) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(Buffer.concat([Buffer.from('echo:'), request.subarray(5)])));
};

let dir: string;
let socket: string;
let server: http2.Http2Server;
let answer: Answer;
let sessions: http2.ServerHttp2Session[];

function startServer(): Promise<void> {
  server = http2.createServer();
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => answer(stream, Buffer.concat(chunks), headers));
    stream.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(socket, resolve));
}

function stopServer(): Promise<void> {
  for (const s of sessions) s.destroy();
  sessions = [];
  return new Promise((resolve) => server.close(() => resolve()));
}

async function failure(promise: Promise<unknown>): Promise<GrpcCallError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GrpcCallError);
  return e as GrpcCallError;
}

const inAMinute = () => ({ deadline: Date.now() + 60_000 });

describe('GrpcUnaryChannel', () => {
  let channel: GrpcUnaryChannel;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'na-unary-'));
    socket = join(dir, 'grpc.sock');
    sessions = [];
    answer = ok;
    await startServer();
    channel = new GrpcUnaryChannel(socket, 1024);
  });
  afterEach(async () => {
    channel.close();
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends one framed message with the gRPC headers and returns the answer', async () => {
    let seen: http2.IncomingHttpHeaders = {};
    answer = (stream, request, headers) => {
      seen = headers;
      ok(stream, request, headers);
    };
    const got = await channel.call('/runtime.v1.RuntimeService/Version', Buffer.from('hi'), {
      deadline: Date.now() + 5000,
    });
    expect(got.toString()).toBe('echo:hi');
    expect(seen[':path']).toBe('/runtime.v1.RuntimeService/Version');
    expect(seen['content-type']).toBe('application/grpc');
    expect(seen.te).toBe('trailers');
    expect(seen['grpc-timeout']).toMatch(/^\d{1,8}m$/);
    expect(Number(String(seen['grpc-timeout']).slice(0, -1))).toBeLessThanOrEqual(5000);
  });

  it('assembles an answer sent in pieces, its prefix split too, into bytes of its own', async () => {
    const message = Buffer.from(Array.from({ length: 900 }, (_, i) => i % 251));
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const whole = frame(message);
      const cuts = [0, 2, 7, 300, whole.length];
      const send = (i: number): void => {
        const piece = whole.subarray(cuts[i], cuts[i + 1]);
        if (i === cuts.length - 2) stream.end(piece);
        else stream.write(piece, () => setImmediate(() => send(i + 1)));
      };
      send(0);
    };
    const got = await channel.call('/x', Buffer.alloc(0), inAMinute());
    expect(got.equals(message)).toBe(true);
    // Not a view into the connection's socket reads, which carry other calls' frames as well.
    expect([got.byteOffset, got.buffer.byteLength]).toEqual([0, message.length]);
    answer = ok;
    const small = await channel.call('/x', Buffer.from('hi'), inAMinute());
    expect([small.toString(), small.byteOffset, small.buffer.byteLength]).toEqual(['echo:hi', 0, 7]);
  });

  it('makes many calls over one connection', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => channel.call('/x', Buffer.from(String(i)), inAMinute())),
    );
    expect(sessions).toHaveLength(1);
  });

  it("gives the runtime's status and its percent-decoded message (trailers-only answer)", async () => {
    answer = (stream) =>
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '5',
          'grpc-message': 'container %22c1%22 not found',
        },
        { endStream: true },
      );
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect([e.code, e.details]).toEqual([5, 'container "c1" not found']);
  });

  it('maps an HTTP status other than 200 as gRPC does', async () => {
    answer = (stream) => stream.respond({ ':status': 404 }, { endStream: true });
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect([e.code, e.details]).toEqual([12, 'Received HTTP status code 404']);
  });

  it('refuses an answer larger than the limit, and a request too', async () => {
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(frame(Buffer.alloc(4096)));
    };
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect([e.code, e.details]).toEqual([8, 'Received message larger than max (4096 vs. 1024)']);
    const sent = await failure(channel.call('/x', Buffer.alloc(2048), inAMinute()));
    expect([sent.code, sent.details]).toEqual([8, 'Sent message larger than max (2048 vs. 1024)']);
  });

  it('refuses a compressed message it never asked for, and an answer without a status', async () => {
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(Buffer.from('x'), 1));
    };
    expect((await failure(channel.call('/x', Buffer.alloc(0), inAMinute()))).code).toBe(13);
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(frame(Buffer.from('x')));
    };
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect([e.code, e.details]).toEqual([13, 'server closed the stream without sending trailers']);
  });

  it('fails with DEADLINE_EXCEEDED when the runtime does not answer in time, and cancels the stream', async () => {
    let cancelled: Promise<number> | undefined;
    answer = (stream) => {
      cancelled = new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode)));
    };
    const e = await failure(channel.call('/x', Buffer.alloc(0), { deadline: Date.now() + 50 }));
    expect([e.code, e.details]).toEqual([4, 'Deadline exceeded']);
    expect(await cancelled).toBe(http2.constants.NGHTTP2_CANCEL);
  });

  it('waits without a deadline when the deadline is infinite: no grpc-timeout, no timer (RunInContainer)', async () => {
    let seen: http2.IncomingHttpHeaders = {};
    answer = (stream, request, headers) => {
      seen = headers;
      setTimeout(() => ok(stream, request, headers), 50);
    };
    const got = await channel.call('/x', Buffer.from('slow'), { deadline: Number.POSITIVE_INFINITY });
    expect(got.toString()).toBe('echo:slow');
    expect(seen['grpc-timeout']).toBeUndefined();
  });

  it('fails with CANCELLED when its signal aborts', async () => {
    answer = () => {};
    const abort = new AbortController();
    const call = channel.call('/x', Buffer.alloc(0), { ...inAMinute(), signal: abort.signal });
    abort.abort();
    const e = await failure(call);
    expect([e.code, e.details]).toEqual([1, 'Cancelled on client']);
  });

  it("fails at once with UNAVAILABLE and the socket's error when nothing listens, then reconnects", async () => {
    await stopServer();
    rmSync(socket, { force: true });
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect([e.code, e.details]).toEqual([14, `connect ENOENT ${socket}`]);
    await startServer();
    expect((await channel.call('/x', Buffer.from('again'), inAMinute())).toString()).toBe('echo:again');
  });

  it('fails a call in flight with UNAVAILABLE when the runtime goes away, and reconnects after', async () => {
    answer = (stream) => stream.session?.destroy();
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect(e.code).toBe(14);
    answer = ok;
    expect((await channel.call('/x', Buffer.from('b'), inAMinute())).toString()).toBe('echo:b');
  });

  it('opens a new connection after the runtime sends GOAWAY', async () => {
    await channel.call('/x', Buffer.from('a'), inAMinute());
    const first = sessions[0] as http2.ServerHttp2Session;
    first.goaway();
    // A call that crossed the GOAWAY on the wire may be refused (UNAVAILABLE, as a runtime going
    // down); the GOAWAY frame came before that answer, so the call after it takes a new connection.
    const crossed = await channel.call('/x', Buffer.from('a'), { deadline: Date.now() + 5000 }).then(
      (answer) => answer.toString(),
      (e: GrpcCallError) => e.code,
    );
    expect(['echo:a', 14]).toContain(crossed);
    expect((await channel.call('/x', Buffer.from('b'), inAMinute())).toString()).toBe('echo:b');
    expect(sessions).toHaveLength(2);
  });

  it('keeps a process alive while a call is in flight, and not after', async () => {
    answer = (stream, request, headers) => setTimeout(() => ok(stream, request, headers), 300);
    const source = fileURLToPath(new URL('../src/unary-channel.ts', import.meta.url));
    const script = [
      `import { GrpcUnaryChannel } from ${JSON.stringify(source)};`,
      `const channel = new GrpcUnaryChannel(${JSON.stringify(socket)}, 1024);`,
      "const answer = await channel.call('/x', Buffer.from('late'), { deadline: Date.now() + 60000 });",
      'console.log(answer.toString());',
    ].join('\n');
    // No close(): the child must still exit once its only call is answered.
    const child = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        timeout: 60_000,
      },
    );
    expect(child.stdout.trim()).toBe('echo:late');
  });

  it('refuses calls after close()', async () => {
    channel.close();
    const e = await failure(channel.call('/x', Buffer.alloc(0), inAMinute()));
    expect(e.code).toBe(14);
  });
});
