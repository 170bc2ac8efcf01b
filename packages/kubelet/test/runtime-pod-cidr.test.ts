import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiNodePodCidrSource, type WireNodePodCidrs } from '../src/sources/api-node-pod-cidr';
import { nodePodCidr, RuntimePodCidr } from '../src/sync/runtime-pod-cidr';
import { waitFor } from './helpers/wait-for';

const UNAVAILABLE = 14;

let fake: FakeRuntime;
let client: CriClient;
beforeEach(async () => {
  fake = FakeRuntime.create();
  client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
});
afterEach(() => client.close());

/** The pod CIDR the fake runtime holds, as its verbose Status reports it. */
async function runtimePodCidr(): Promise<string> {
  const status = await client.status({ verbose: true });
  return JSON.parse(status.info.config ?? '{}').podCIDR;
}

function recordingLogger() {
  const lines: { fields: object; msg: string | undefined }[] = [];
  const log = (fields: object, msg?: string) => lines.push({ fields, msg });
  return { lines, logger: { info: log, warn: log, error: log } };
}

describe('RuntimePodCidr (upstream updatePodCIDR and kuberuntime UpdatePodCIDR)', () => {
  it('hands a new CIDR to the runtime through UpdateRuntimeConfig, with upstream log lines in order', async () => {
    const { lines, logger } = recordingLogger();
    const podCidr = new RuntimePodCidr(client, logger);
    expect(await podCidr.update('10.244.1.0/24')).toBe(true);
    expect(await runtimePodCidr()).toBe('10.244.1.0/24');
    expect(podCidr.podCIDR).toBe('10.244.1.0/24');
    expect(lines).toEqual([
      { fields: { CIDR: '10.244.1.0/24' }, msg: 'Updating runtime config through cri with podcidr' },
      { fields: { originalPodCIDR: '', newPodCIDR: '10.244.1.0/24' }, msg: 'Updating Pod CIDR' },
    ]);
  });

  it('makes no call for the CIDR the runtime has ("" at first: the default podCIDR is no call)', async () => {
    const podCidr = new RuntimePodCidr(client, recordingLogger().logger);
    expect(await podCidr.update('')).toBe(false);
    await podCidr.update('fd00:10:244::/64');
    expect(await podCidr.update('fd00:10:244::/64')).toBe(false);
    expect(fake.calls.filter((rpc) => rpc === 'UpdateRuntimeConfig')).toHaveLength(1);
  });

  it("rejects with upstream's text when the runtime refuses, keeps the old CIDR, and tries again next time", async () => {
    const { lines, logger } = recordingLogger();
    const podCidr = new RuntimePodCidr(client, logger);
    fake.injectError('UpdateRuntimeConfig', { code: UNAVAILABLE, details: 'runtime is going away' });
    await expect(podCidr.update('10.244.1.0/24')).rejects.toThrow(
      'failed to update pod CIDR: rpc error: code = Unavailable desc = runtime is going away',
    );
    expect(podCidr.podCIDR).toBe('');
    expect(lines.map((line) => line.msg)).toEqual(['Updating runtime config through cri with podcidr']);
    expect(await podCidr.update('10.244.1.0/24')).toBe(true);
    expect(await runtimePodCidr()).toBe('10.244.1.0/24');
  });

  it('runs updates one at a time: the same CIDR asked twice at once is one call', async () => {
    const podCidr = new RuntimePodCidr(client, recordingLogger().logger);
    const results = await Promise.all([podCidr.update('10.244.2.0/24'), podCidr.update('10.244.2.0/24')]);
    expect(results).toEqual([true, false]);
    expect(fake.calls.filter((rpc) => rpc === 'UpdateRuntimeConfig')).toHaveLength(1);
  });

  it("takes a Node's spec.podCIDRs joined with a comma, none when it has none", () => {
    expect(nodePodCidr({ spec: { podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] } })).toBe(
      '10.244.1.0/24,fd00:10:244:1::/64',
    );
    expect(nodePodCidr({ spec: { podCIDRs: [] } })).toBeUndefined();
    expect(nodePodCidr({ spec: {} })).toBeUndefined();
    expect(nodePodCidr(undefined)).toBeUndefined();
  });
});

describe('ApiNodePodCidrSource (the own Node, reduced to its pod CIDRs)', () => {
  let api: ApiServer;
  beforeEach(async () => {
    api = await startApiServer();
  });
  afterEach(async () => {
    await api.close();
  });

  it('reports its own Node (not another) when listed and changed, then again every resync period', async () => {
    const nodes = api.resource('v1', 'nodes');
    api.registry.create(nodes, undefined, {
      metadata: { name: 'other' },
      spec: { podCIDRs: ['10.9.0.0/24'] },
    });
    api.registry.create(nodes, undefined, {
      metadata: { name: 'n1' },
      status: { images: [{ names: ['x'] }] },
    });
    const seen: WireNodePodCidrs[] = [];
    const clock = new FakeClock();
    const source = new ApiNodePodCidrSource({
      kubeConfig: api.kubeConfig(),
      nodeName: 'n1',
      resyncMs: 10_000,
      clock,
      onNode: (node) => seen.push(node),
    });
    source.start();
    try {
      await waitFor('the listed Node', () => seen.length === 1, 30_000);
      expect(seen[0]?.metadata?.name).toBe('n1');
      // Only the identity and the pod CIDRs are kept.
      expect(Object.keys(seen[0] ?? {}).sort()).toEqual(['metadata', 'spec']);
      expect(nodePodCidr(seen[0])).toBeUndefined();
      const n1 = api.registry.find(nodes, undefined, 'n1') as { spec?: object };
      api.registry.update(nodes, undefined, 'n1', { ...n1, spec: { podCIDRs: ['10.244.7.0/24'] } });
      await waitFor('the changed Node', () => seen.length === 2, 30_000);
      expect(nodePodCidr(seen[1])).toBe('10.244.7.0/24');
      clock.advance(10_000);
      expect(seen).toHaveLength(3);
      expect(nodePodCidr(seen[2])).toBe('10.244.7.0/24');
      expect(seen.map((node) => node.metadata?.name)).toEqual(['n1', 'n1', 'n1']);
    } finally {
      await source.stop();
    }
  });
});
