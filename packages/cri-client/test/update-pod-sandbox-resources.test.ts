import { afterEach, describe, expect, it } from 'vitest';
import { messageCodec } from '../src/codec';
import { type CriClient, createCriClient, isUnimplemented } from '../src/index';
import { FakeRuntime } from '../src/testing/index';

// UpdatePodSandboxResources (cri-api v0.36 api.proto): pod_sandbox_id = 1, overhead = 2,
// resources = 3, both LinuxContainerResources; an empty response.

describe('UpdatePodSandboxResources', { timeout: 30_000 }, () => {
  let fake: FakeRuntime | undefined;
  let client: CriClient | undefined;
  afterEach(async () => {
    client?.close();
    client = undefined;
    await fake?.stop();
    fake = undefined;
  });

  async function start(podSandboxResources?: boolean): Promise<CriClient> {
    fake = FakeRuntime.create(podSandboxResources === undefined ? {} : { podSandboxResources });
    client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
    return client;
  }

  it('puts the sandbox id, overhead and resources under upstream’s field numbers 1, 2 and 3', () => {
    const bytes = messageCodec('UpdatePodSandboxResourcesRequest').encode({
      podSandboxId: 'ab',
      overhead: { cpuShares: 2 },
      resources: { memoryLimitInBytes: 1 },
    });
    // 0x0a = field 1 (length-delimited) "ab"; 0x12 = field 2 { cpu_shares (3) = 2 };
    // 0x1a = field 3 { memory_limit_in_bytes (4) = 1 }.
    expect(Buffer.from(bytes).toString('hex')).toBe('0a026162120218021a022001');
  });

  it('answers UNIMPLEMENTED by default, with the words containerd 1.6 and 2.1 answer', async () => {
    const cri = await start();
    const error = await cri.updatePodSandboxResources({ podSandboxId: 'x' }).catch((e: unknown) => e);
    expect(isUnimplemented(error)).toBe(true);
    expect((error as { details: string }).details).toBe(
      'unknown method UpdatePodSandboxResources for service runtime.v1.RuntimeService',
    );
    expect(fake!.calls).toEqual(['Version', 'UpdatePodSandboxResources']);
    expect(fake!.sandboxResourceUpdates).toEqual([]);
  });

  it('with podSandboxResources, records what it was sent and knows only its own sandboxes', async () => {
    const cri = await start(true);
    const config = { metadata: { name: 'p', uid: 'u', namespace: 'default', attempt: 0 } };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    await cri.updatePodSandboxResources({
      podSandboxId,
      overhead: {},
      resources: { cpuShares: 307, cpuPeriod: 100000, cpuQuota: 30000, memoryLimitInBytes: 67108864 },
    });
    expect(fake!.sandboxResourceUpdates).toHaveLength(1);
    const [sent] = fake!.sandboxResourceUpdates;
    expect(sent!.podSandboxId).toBe(podSandboxId);
    expect(sent!.overhead).toMatchObject({ cpuShares: 0n, memoryLimitInBytes: 0n });
    expect(sent!.resources).toMatchObject({
      cpuShares: 307n,
      cpuPeriod: 100000n,
      cpuQuota: 30000n,
      memoryLimitInBytes: 67108864n,
    });
    const missing = await cri.updatePodSandboxResources({ podSandboxId: 'nope' }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
  });
});
