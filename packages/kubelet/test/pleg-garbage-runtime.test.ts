import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient, isCriError } from '@nodeagent/cri-client';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { GenericPLEG, type PodLifecycleEvent } from '../src/pleg/generic-pleg';
import { PodCache } from '../src/pleg/pod-cache';

/**
 * A runtime that answers ListContainers with bytes that are not protobuf: upstream's relist logs
 * "GenericPLEG: Unable to retrieve pods" and tries again a second later; ours reports the
 * CriError (ListContainers, INTERNAL) to onError and the next relist, on a good answer, works.
 */
let dir: string;
let server: http2.Http2Server;
let client: CriClient;
let garbage = true;

/** An empty list answer (ListPodSandbox, ListContainers: no items is zero bytes) or garbage. */
function answer(stream: http2.ServerHttp2Stream, path: string): void {
  const body =
    path.endsWith('/ListContainers') && garbage ? Buffer.from([0x0f, 0xff, 0xff]) : Buffer.alloc(0);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(Buffer.concat([head, body]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'na-pleg-garbage-'));
  const socket = join(dir, 'runtime.sock');
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.resume();
    stream.on('end', () => answer(stream, String(headers[':path'])));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  client = new CriClient({ endpoint: `unix://${socket}` });
});

afterAll(async () => {
  client.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('PLEG relist against a runtime answering garbage', () => {
  it('reports the CriError (the PLEG stays up) and the next relist, on a good answer, succeeds', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const events: PodLifecycleEvent[] = [];
    let failed!: () => void;
    const firstFailure = new Promise<void>((resolve) => {
      failed = resolve;
    });
    const pleg = new GenericPLEG({
      runtime: criPodRuntime(client),
      cache: new PodCache(),
      clock,
      onEvent: (e) => events.push(e),
      onError: (e) => {
        errors.push(e);
        failed();
      },
    });
    pleg.start();
    await firstFailure;
    const e = errors[0];
    expect(isCriError(e) && [e.rpc, e.codeName]).toEqual(['ListContainers', 'INTERNAL']);
    garbage = false;
    await pleg.stop();
    await pleg.relist();
    expect(errors).toHaveLength(1);
    expect(events).toEqual([]);
    expect(pleg.healthy()).toEqual({ ok: true });
  });
});
