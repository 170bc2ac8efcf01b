import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoRoot } from '../scripts/generate-codecs';
import {
  type DraHealthV1alpha1Server,
  draHealthV1alpha1Service,
  type NodeWatchResourcesResponse,
} from '../src/dra-health-v1alpha1';
import {
  type DraPluginServer,
  draV1beta1Service,
  draV1Service,
  type NodePrepareResourcesRequest,
  type NodePrepareResourcesResponse,
  type NodeUnprepareResourcesResponse,
} from '../src/dra-v1';
import type { MessageInit } from '../src/message-init';
import { type PluginInfo, type RegistrationV1Server, registrationV1Service } from '../src/registration-v1';
import type { PluginMethod } from '../src/service-definition';
import { protoText } from './prototext';

// upstream's kubelet and DRA test driver, as the driver logged what it handled.
const recorded = readFileSync(
  join(import.meta.dirname, '../../../fidelity/node-plugins-v1.36/dra-test-driver-exchange.txt'),
  'utf8',
);
/** The recorded request or response text of `method`'s call (Go's %q quoting undone). */
function recordedText(method: string, what: 'request' | 'response'): string {
  const line = recorded.split('\n').find((l) => l.includes(`method="${method}"`) && l.includes(` ${what}=`));
  const quoted = line?.match(new RegExp(` ${what}=("(?:[^"\\\\]|\\\\.)*")`))?.[1];
  if (!quoted) throw new Error(`no recorded ${what} of ${method}`);
  return JSON.parse(quoted) as string;
}

const CLAIM = {
  namespace: 'default',
  uid: 'e54af637-99ae-4f79-bb94-a7388ca29413',
  name: 'np-dra-upstream-r-z8n6w',
};
const PREPARED: MessageInit<NodePrepareResourcesResponse> = {
  claims: {
    [CLAIM.uid]: {
      devices: [
        {
          requestNames: ['dev'],
          poolName: 'np-upstream',
          deviceName: 'device-00',
          cdiDeviceIds: [`test-driver.cdi.k8s.io/test=claim-${CLAIM.uid}-dev`],
        },
      ],
    },
  },
};

let dir: string;
let server: grpc.Server;
let client: grpc.Client;
const received: { method: string; request: unknown }[] = [];

function unary<Req, Res>(method: PluginMethod<Req, Res>, request: NoInfer<MessageInit<Req>>): Promise<Res> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      { deadline: Date.now() + 30_000 },
      (err, value) => (err || value === undefined ? reject(err) : resolve(value)),
    ),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plugin-api-'));
  const socket = join(dir, 'dra.sock');
  const registration: RegistrationV1Server = {
    GetInfo: (_call, done) =>
      done(null, {
        type: 'DRAPlugin',
        name: 'test-driver.cdi.k8s.io',
        endpoint: socket,
        supportedVersions: ['v1.DRAPlugin', 'v1beta1.DRAPlugin', 'v1alpha1.DRAResourceHealth'],
      }),
    NotifyRegistrationStatus: (call, done) => {
      received.push({ method: 'NotifyRegistrationStatus', request: call.request });
      done(null, {});
    },
  };
  const dra = (version: string): DraPluginServer => ({
    NodePrepareResources: (call, done) => {
      received.push({ method: `${version}/NodePrepareResources`, request: call.request });
      done(null, PREPARED);
    },
    NodeUnprepareResources: (call, done) =>
      done(null, { claims: Object.fromEntries(call.request.claims.map((c) => [c.uid, {}])) }),
  });
  const health: DraHealthV1alpha1Server = {
    NodeWatchResources: (call) => {
      call.write({
        devices: [{ device: { poolName: 'p', deviceName: 'd0' }, health: 'HEALTHY', lastUpdatedTime: 1 }],
      });
      call.write({
        devices: [{ device: { poolName: 'p', deviceName: 'd0' }, health: 'UNHEALTHY', lastUpdatedTime: 2 }],
      });
      call.end();
    },
  };
  server = new grpc.Server();
  server.addService(registrationV1Service, registration);
  server.addService(draV1Service, dra('v1'));
  server.addService(draV1beta1Service, dra('v1beta1'));
  server.addService(draHealthV1alpha1Service, health);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client?.close();
  server?.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('the service definitions, served and called over a unix socket', () => {
  it('use the method paths upstream kubelet called the DRA test driver on', () => {
    const paths = [...recorded.matchAll(/method="([^"]+)"/g)].map((m) => m[1]);
    const ours = [registrationV1Service, draV1Service, draHealthV1alpha1Service].flatMap((s) =>
      Object.values(s).map((m) => m.path),
    );
    expect(new Set(paths)).toEqual(new Set(ours));
    expect(draV1beta1Service.NodePrepareResources.path).toBe(
      '/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/NodePrepareResources',
    );
    expect(draHealthV1alpha1Service.NodeWatchResources.responseStream).toBe(true);
    expect(draV1Service.NodePrepareResources.responseStream).toBe(false);
  });

  it('register: GetInfo answers as the recorded driver did', async () => {
    const info: PluginInfo = await unary(registrationV1Service.GetInfo, {});
    expect(info.supportedVersions).toEqual([
      'v1.DRAPlugin',
      'v1beta1.DRAPlugin',
      'v1alpha1.DRAResourceHealth',
    ]);
    const text = protoText(
      protoRoot('pluginregistration-v1.proto').lookupType('pluginregistration.PluginInfo'),
      {
        ...info,
        endpoint: '<root-dir>/plugins/test-driver.cdi.k8s.io/dra.sock',
      },
    );
    expect(text).toBe(recordedText('/pluginregistration.Registration/GetInfo', 'response'));
    await unary(registrationV1Service.NotifyRegistrationStatus, { pluginRegistered: true });
    expect(received.find((r) => r.method === 'NotifyRegistrationStatus')?.request).toEqual({
      pluginRegistered: true,
      error: '',
    });
  });

  it('prepare and unprepare: the bytes carry what upstream exchanged', async () => {
    const root = protoRoot('dra-v1.proto');
    const type = (n: string) => root.lookupType(`k8s.io.kubelet.pkg.apis.dra.v1.${n}`);
    const request: MessageInit<NodePrepareResourcesRequest> = { claims: [CLAIM] };
    const prepared = await unary(draV1Service.NodePrepareResources, request);
    const method = '/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources';
    expect(
      protoText(type('NodePrepareResourcesRequest'), received.at(-1)?.request as Record<string, unknown>),
    ).toBe(recordedText(method, 'request'));
    expect(
      protoText(type('NodePrepareResourcesResponse'), prepared as unknown as Record<string, unknown>),
    ).toBe(recordedText(method, 'response'));
    expect(prepared.claims[CLAIM.uid]?.error).toBe('');

    const unprepared: NodeUnprepareResourcesResponse = await unary(
      draV1Service.NodeUnprepareResources,
      request,
    );
    expect(
      protoText(type('NodeUnprepareResourcesResponse'), unprepared as unknown as Record<string, unknown>),
    ).toBe(recordedText('/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodeUnprepareResources', 'response'));
  });

  it('v1beta1 reaches the v1beta1 handlers with the same messages', async () => {
    const prepared = await unary(draV1beta1Service.NodePrepareResources, { claims: [CLAIM] });
    expect(received.at(-1)?.method).toBe('v1beta1/NodePrepareResources');
    expect(prepared.claims[CLAIM.uid]?.devices[0]?.deviceName).toBe('device-00');
  });

  it('health: the stream delivers each complete list in order', async () => {
    const m = draHealthV1alpha1Service.NodeWatchResources;
    const stream = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {});
    const answers: NodeWatchResourcesResponse[] = [];
    for await (const answer of stream) answers.push(answer as NodeWatchResourcesResponse);
    expect(
      answers.map((a) => a.devices.map((d) => [d.device?.deviceName, d.health, d.lastUpdatedTime])),
    ).toEqual([[['d0', 'HEALTHY', 1]], [['d0', 'UNHEALTHY', 2]]]);
  });
});
