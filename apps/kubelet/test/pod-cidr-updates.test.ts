import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPodCidrUpdates } from '../src/pod-cidr-updates';

// The binary's pod CIDR wiring: upstream's NewMainKubelet hands the runtime the config's podCIDR,
// and its node status updates the Node's spec.podCIDRs (CRI UpdateRuntimeConfig both times).

const UNAVAILABLE = 14;

let fake: FakeRuntime;
let client: CriClient;
beforeEach(async () => {
  fake = FakeRuntime.create();
  client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
});
afterEach(() => client.close());

async function runtimePodCidr(): Promise<string> {
  return JSON.parse((await client.status({ verbose: true })).info.config ?? '{}').podCIDR;
}

function recordingLogger() {
  const lines: { level: string; fields: object; msg: string | undefined }[] = [];
  const at = (level: string) => (fields: object, msg?: string) => lines.push({ level, fields, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** Polls `probe` until it is true; throws naming `what` after `timeoutMs` (a hang guard only). */
async function waitFor(what: string, probe: () => Promise<boolean | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const config = (podCIDR: string) => ({ podCIDR, nodeStatusUpdateFrequency: '10s' });

describe('the pod CIDR handed to the runtime', () => {
  it('standalone: the config podCIDR, once, when the kubelet is built', async () => {
    const { lines, logger } = recordingLogger();
    const stop = await startPodCidrUpdates({
      config: config('10.100.0.0/24'),
      client,
      kubeConfig: undefined,
      nodeName: 'n1',
      logger,
    });
    await stop();
    expect(await runtimePodCidr()).toBe('10.100.0.0/24');
    expect(lines.map((line) => line.msg)).toEqual([
      'Updating runtime config through cri with podcidr',
      'Updating Pod CIDR',
    ]);
  });

  it('standalone, runtime refusing: "Pod CIDR update failed" logged at error, and the start goes on', async () => {
    const { lines, logger } = recordingLogger();
    fake.injectError('UpdateRuntimeConfig', { code: UNAVAILABLE, details: 'no' });
    await startPodCidrUpdates({
      config: config('10.100.0.0/24'),
      client,
      kubeConfig: undefined,
      nodeName: 'n1',
      logger,
    });
    expect(lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        fields: { err: 'failed to update pod CIDR: rpc error: code = Unavailable desc = no' },
        msg: 'Pod CIDR update failed',
      },
    ]);
    expect(await runtimePodCidr()).toBe('');
  });

  describe('with an API server', () => {
    let api: ApiServer;
    beforeEach(async () => {
      api = await startApiServer();
    });
    afterEach(async () => {
      await api.close();
    });

    it("the Node's spec.podCIDRs when assigned; a refusal logged and retried at the next status period", async () => {
      const { lines, logger } = recordingLogger();
      const clock = new FakeClock();
      const nodes = api.resource('v1', 'nodes');
      api.registry.create(nodes, undefined, { metadata: { name: 'n1' } });
      const stop = await startPodCidrUpdates({
        config: config(''),
        client,
        kubeConfig: api.kubeConfig(),
        nodeName: 'n1',
        logger,
        clock,
      });
      try {
        // The IPAM controller assigns the node its ranges; the runtime refuses the first call.
        fake.injectError('UpdateRuntimeConfig', { code: UNAVAILABLE, details: 'restarting' });
        const node = api.registry.find(nodes, undefined, 'n1') as object;
        api.registry.update(nodes, undefined, 'n1', {
          ...node,
          spec: { podCIDRs: ['10.244.3.0/24', 'fd00:10:244:3::/64'] },
        });
        await waitFor('the refusal logged', async () => lines.some((line) => line.level === 'error'), 30_000);
        expect(lines.find((line) => line.level === 'error')).toEqual({
          level: 'error',
          fields: { err: 'failed to update pod CIDR: rpc error: code = Unavailable desc = restarting' },
          msg: 'Error updating pod CIDR',
        });
        expect(await runtimePodCidr()).toBe('');
        clock.advance(10_000);
        await waitFor('the retried CIDR', async () => (await runtimePodCidr()) !== '' || undefined, 30_000);
        expect(await runtimePodCidr()).toBe('10.244.3.0/24,fd00:10:244:3::/64');
        expect(lines.at(-1)).toEqual({
          level: 'info',
          fields: { originalPodCIDR: '', newPodCIDR: '10.244.3.0/24,fd00:10:244:3::/64' },
          msg: 'Updating Pod CIDR',
        });
        // Unchanged afterwards: the next periods make no call.
        const calls = fake.calls.filter((rpc) => rpc === 'UpdateRuntimeConfig').length;
        clock.advance(10_000);
        await runtimePodCidr();
        expect(fake.calls.filter((rpc) => rpc === 'UpdateRuntimeConfig')).toHaveLength(calls);
      } finally {
        await stop();
      }
    });
  });
});
