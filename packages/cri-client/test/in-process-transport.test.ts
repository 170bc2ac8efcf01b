import { afterEach, describe, expect, it } from 'vitest';
import { status } from '../src/grpc-js';
import { type CriClient, CriError, createCriClient, isDeadlineExceeded, isUnavailable } from '../src/index';
import { FakeRuntime } from '../src/testing/index';

describe("the fake runtime's in-process transport", { timeout: 30_000 }, () => {
  let fake: FakeRuntime | undefined;
  let client: CriClient | undefined;
  afterEach(async () => {
    client?.close();
    await fake?.stop();
  });

  async function start(): Promise<{ fake: FakeRuntime; client: CriClient }> {
    fake = await FakeRuntime.start({ runtimeName: 'fake', runtimeVersion: '9.9.9' });
    client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
    return { fake, client };
  }

  it('answers as the socket does, decoded with the defaults the wire fills in', async () => {
    const { fake, client: inProcess } = await start();
    const overSocket = await createCriClient({ endpoint: fake.endpoint });
    try {
      expect(inProcess.runtimeVersion).toEqual(overSocket.runtimeVersion);
      expect(await inProcess.listContainers({})).toEqual(await overSocket.listContainers({}));
      expect(await inProcess.status({ verbose: false })).toEqual(await overSocket.status({ verbose: false }));
    } finally {
      overSocket.close();
    }
  });

  it("keeps an injected failure's code and message, and counts the call", async () => {
    const { fake, client: c } = await start();
    fake.injectError('ListPodSandbox', { code: status.RESOURCE_EXHAUSTED, details: 'too many' });
    const failure = await c.listPodSandbox({}).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CriError);
    expect((failure as CriError).grpcCode).toBe(status.RESOURCE_EXHAUSTED);
    expect((failure as CriError).details).toBe('too many');
    expect(fake.calls.filter((rpc) => rpc === 'ListPodSandbox')).toHaveLength(1);
  });

  it('ends a call at its deadline, and every call once closed', async () => {
    const { fake, client: c } = await start();
    const gate = fake.holdCalls('ListContainers');
    const held = c.listContainers({}, { timeoutMs: 50 }).catch((e: unknown) => e);
    await gate.reached;
    expect(isDeadlineExceeded(await held)).toBe(true);
    const inFlight = c.listContainers({}).catch((e: unknown) => e);
    c.close();
    expect(isUnavailable(await inFlight)).toBe(true);
    expect(isUnavailable(await c.version({}).catch((e: unknown) => e))).toBe(true);
    gate.release();
  });
});
