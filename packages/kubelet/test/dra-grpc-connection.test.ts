import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  type DraHealthV1alpha1Server,
  type DraPluginServer,
  draHealthV1alpha1Service,
  draV1beta1Service,
  draV1Service,
} from '@nodeagent/plugin-api';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { draMetrics } from '../src/dra/dra-metrics';
import { DraCallError, type DraDeviceHealthAnswer, DraPlugin } from '../src/dra/dra-plugin';
import { grpcDraConnector } from '../src/dra/grpc-dra-connection';

let dir: string;
let server: grpc.Server;
let socket: string;
let requests: { method: string; claims: unknown }[];
let stall: boolean;
let healthCall: grpc.ServerWritableStream<unknown, unknown> | undefined;

const driverHandlers: DraPluginServer = {
  NodePrepareResources(call, callback) {
    requests.push({ method: 'prepare', claims: call.request.claims });
    if (stall) return;
    callback(null, {
      claims: Object.fromEntries(
        call.request.claims.map((c) => [
          c.uid,
          {
            devices: [
              {
                requestNames: ['dev'],
                poolName: 'pool',
                deviceName: 'dev-0',
                cdiDeviceIds: [`drv/test=claim-${c.uid}`],
              },
            ],
          },
        ]),
      ),
    });
  },
  NodeUnprepareResources(call, callback) {
    requests.push({ method: 'unprepare', claims: call.request.claims });
    callback(null, {
      claims: Object.fromEntries(call.request.claims.map((c) => [c.uid, { error: 'busy' }])),
    });
  },
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-dra-grpc-${process.pid}-`));
  socket = join(dir, 'dra.sock');
  requests = [];
  stall = false;
  server = new grpc.Server();
  server.addService(draV1Service, driverHandlers);
  server.addService(draV1beta1Service, driverHandlers);
  const health: DraHealthV1alpha1Server = {
    NodeWatchResources(call) {
      healthCall = call as grpc.ServerWritableStream<unknown, unknown>;
      call.write({
        devices: [
          {
            device: { poolName: 'pool', deviceName: 'dev-0' },
            health: 'HEALTHY',
            lastUpdatedTime: 1700000000,
          },
          {
            device: { poolName: 'pool', deviceName: 'dev-1' },
            health: 'UNHEALTHY',
            lastUpdatedTime: 1700000001,
            healthCheckTimeoutSeconds: 120,
            message: 'XID 79: fallen off the bus',
          },
        ],
      });
    },
  };
  server.addService(draHealthV1alpha1Service, health);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
});

afterEach(async () => {
  server.forceShutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('DRA plugin over gRPC', () => {
  it.each(['v1.DRAPlugin', 'v1beta1.DRAPlugin'] as const)(
    'calls %s NodePrepareResources and NodeUnprepareResources with the claims and reads the answers',
    async (service) => {
      const registry = new Registry();
      const connection = grpcDraConnector(grpc)(socket, service);
      const plugin = new DraPlugin(
        'drv',
        socket,
        service,
        connection,
        draMetrics(registry, () => new Map()),
        new FakeClock(),
      );
      const claims = [{ namespace: 'default', uid: 'u-1', name: 'c-1' }];
      const prepared = await plugin.nodePrepareResources(claims);
      expect(prepared.claims['u-1']?.devices).toEqual([
        {
          requestNames: ['dev'],
          poolName: 'pool',
          deviceName: 'dev-0',
          cdiDeviceIds: ['drv/test=claim-u-1'],
        },
      ]);
      expect((await plugin.nodeUnprepareResources(claims)).claims['u-1']?.error).toBe('busy');
      expect(requests).toEqual([
        { method: 'prepare', claims },
        { method: 'unprepare', claims },
      ]);
      const pkg = service === 'v1.DRAPlugin' ? 'v1' : 'v1beta1';
      expect(await registry.metrics()).toContain(
        `dra_grpc_operations_duration_seconds_count{driver_name="drv",method_name="/k8s.io.kubelet.pkg.apis.dra.${pkg}.DRAPlugin/NodePrepareResources",grpc_status_code="OK"} 1`,
      );
      connection.close();
    },
  );

  it('fails a call the driver does not answer in time with DeadlineExceeded', async () => {
    stall = true;
    const connection = grpcDraConnector(grpc)(socket, 'v1.DRAPlugin');
    const plugin = new DraPlugin(
      'drv',
      socket,
      'v1.DRAPlugin',
      connection,
      draMetrics(undefined, () => new Map()),
      new FakeClock(),
      200,
    );
    const error = await plugin
      .nodePrepareResources([{ namespace: 'default', uid: 'u', name: 'c' }])
      .catch((e) => e);
    expect(error).toBeInstanceOf(DraCallError);
    expect((error as Error).message).toMatch(/^rpc error: code = DeadlineExceeded desc = /);
    connection.close();
  });

  it('streams NodeWatchResources answers and reports the end of the stream', async () => {
    const connection = grpcDraConnector(grpc)(socket, 'v1.DRAPlugin');
    const answers: DraDeviceHealthAnswer[][] = [];
    let ended = false;
    connection.watchResources(
      (devices) => answers.push(devices),
      () => {
        ended = true;
      },
    );
    for (let i = 0; i < 200 && answers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(answers).toEqual([
      [
        {
          poolName: 'pool',
          deviceName: 'dev-0',
          health: 'HEALTHY',
          lastUpdatedTime: 1700000000,
          healthCheckTimeoutSeconds: 0,
          message: '',
        },
        {
          poolName: 'pool',
          deviceName: 'dev-1',
          health: 'UNHEALTHY',
          lastUpdatedTime: 1700000001,
          healthCheckTimeoutSeconds: 120,
          message: 'XID 79: fallen off the bus',
        },
      ],
    ]);
    healthCall?.end();
    for (let i = 0; i < 200 && !ended; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ended).toBe(true);
    connection.close();
  });

  it('reports the connection up once it is READY and down when the driver goes away', async () => {
    const connection = grpcDraConnector(grpc)(socket, 'v1.DRAPlugin');
    const seen: boolean[] = [];
    connection.watchConnected?.((connected) => seen.push(connected));
    for (let i = 0; i < 300 && !seen.includes(true); i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.at(-1)).toBe(true);
    server.forceShutdown();
    for (let i = 0; i < 300 && seen.at(-1) !== false; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen.at(-1)).toBe(false);
    connection.close();
  });
});
