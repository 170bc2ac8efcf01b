import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  HEALTH_CHECK_METHOD,
  normalizeProbe,
  runGrpcProbe,
  runProbe,
  SERVING_STATUS_NAMES,
  type ServingStatus,
} from '../src/index';

const healthService: ServiceDefinition = {
  Check: {
    path: HEALTH_CHECK_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeHealthCheckRequest,
    requestDeserialize: decodeHealthCheckRequest,
    responseSerialize: encodeHealthCheckResponse,
    responseDeserialize: decodeHealthCheckResponse,
    originalName: 'check',
  },
};

// Per-service statuses; "hang" never answers, to exercise the deadline.
const statuses = new Map<string, ServingStatus | 'hang'>([
  ['', 'SERVING'],
  ['db', 'NOT_SERVING'],
  ['slow', 'hang'],
]);
const seenServices: string[] = [];
let userAgent = '';

let healthServer: Server;
let healthPort: number;
let bareServer: Server;
let barePort: number;

function bind(server: Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
}

beforeAll(async () => {
  healthServer = new Server();
  healthServer.addService(healthService, {
    Check: (
      call: ServerUnaryCall<{ service: string }, unknown>,
      cb: sendUnaryData<{ status: ServingStatus }>,
    ) => {
      seenServices.push(call.request.service);
      userAgent = String(call.metadata.get('user-agent')[0] ?? '');
      const status = statuses.get(call.request.service) ?? 'SERVICE_UNKNOWN';
      if (status === 'hang') return;
      cb(null, { status });
    },
  });
  healthPort = await bind(healthServer);
  // A gRPC server that does not implement grpc.health.v1.
  bareServer = new Server();
  barePort = await bind(bareServer);
});

afterAll(() => {
  healthServer.forceShutdown();
  bareServer.forceShutdown();
});

const probe = (port: number, service = '', timeoutMs = 1000) =>
  runGrpcProbe({ host: '127.0.0.1', port, service, timeoutMs });

describe('runGrpcProbe against a loopback gRPC server', () => {
  it('is Success when the server answers SERVING, and sends the service name', async () => {
    // Upstream's prober says so (its output shows only in its logs).
    expect(await probe(healthPort)).toEqual({ result: 'Success', output: 'service healthy' });
    expect(seenServices.at(-1)).toBe('');
    expect(userAgent).toMatch(/^kube-probe\//);
  });

  it('is Failure with the status when not serving', async () => {
    expect(await probe(healthPort, 'db')).toEqual({
      result: 'Failure',
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    expect(seenServices.at(-1)).toBe('db');
    expect((await probe(healthPort, 'other')).output).toContain('SERVICE_UNKNOWN');
  });

  it('is Failure when the health service is not implemented', async () => {
    const out = await probe(barePort);
    expect(out.result).toBe('Failure');
    expect(out.output).toMatch(
      /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): ./,
    );
  });

  it('is Failure with a timeout message when the RPC outlives timeoutSeconds (a Go Duration: 300ms, 1s)', async () => {
    const out = await probe(healthPort, 'slow', 300);
    expect(out.result).toBe('Failure');
    expect(out.output).toBe('timeout: health rpc did not complete within 300ms');
  });

  it("is Failure at the timeout when nothing listens, with upstream's blocking dial's message", async () => {
    const gone = new Server();
    const port = await bind(gone);
    gone.forceShutdown();
    expect(await probe(port)).toEqual({
      result: 'Failure',
      output: `timeout: failed to connect service "127.0.0.1:${port}" within 1s: context deadline exceeded`,
    });
  });

  it('passes when the server comes up within the timeout (the dial is tried again, as grpc.WithBlock does)', async () => {
    const late = new Server();
    const port = await bind(late);
    late.forceShutdown();
    const pending = probe(port, '', 5_000);
    // Up after the probe's first dial was refused.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const server = new Server();
    server.addService(healthService, {
      Check: (_call: unknown, cb: sendUnaryData<{ status: ServingStatus }>) =>
        cb(null, { status: 'SERVING' }),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    try {
      expect(await pending).toEqual({ result: 'Success', output: 'service healthy' });
    } finally {
      server.forceShutdown();
    }
  });

  it('cancels the RPC when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = runGrpcProbe({
      host: '127.0.0.1',
      port: healthPort,
      service: 'slow',
      timeoutMs: 5_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ result: 'Unknown', output: 'probe cancelled' });
  });

  it('runs through runProbe against the pod IP', async () => {
    const spec = normalizeProbe({ grpc: { port: healthPort, service: 'db' } }, 'Liveness');
    expect((await runProbe(spec, { podIP: '127.0.0.1' })).result).toBe('Failure');
  });
});

describe('grpc.health.v1 codec', () => {
  it('round-trips requests and responses', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (service) => {
        expect(decodeHealthCheckRequest(encodeHealthCheckRequest({ service }))).toEqual({ service });
      }),
    );
    for (const status of SERVING_STATUS_NAMES) {
      expect(decodeHealthCheckResponse(encodeHealthCheckResponse({ status }))).toEqual({ status });
    }
  });

  it('encodes the wire bytes protobuf expects and skips unknown fields', () => {
    expect([...encodeHealthCheckRequest({ service: 'ab' })]).toEqual([0x0a, 2, 0x61, 0x62]);
    expect([...encodeHealthCheckResponse({ status: 'NOT_SERVING' })]).toEqual([0x08, 2]);
    // Field 2 (varint 5) before field 1 = SERVING.
    expect(decodeHealthCheckResponse(Buffer.from([0x10, 5, 0x08, 1]))).toEqual({ status: 'SERVING' });
  });
});
