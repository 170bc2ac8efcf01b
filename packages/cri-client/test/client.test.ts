import { CodedError } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionFailure } from '../src/cri-error';
import {
  type CriClient,
  CriError,
  createCriClient,
  grpcTarget,
  InvalidArgumentError,
  isCancelled,
  isDeadlineExceeded,
  isNotFound,
  isUnavailable,
  isUnimplemented,
  MAX_MESSAGE_BYTES,
  RuntimeUnreachableError,
  UnsupportedRuntimeApiError,
} from '../src/index';
import { FakeRuntime } from '../src/testing/index';
import { ContainerState } from '../src/types/index';

const BUSYBOX = 'localhost/nodeagent/busybox:1.0';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('endpoints', () => {
  it('normalises unix endpoints and bare paths', () => {
    expect(grpcTarget('unix:///run/containerd/containerd.sock')).toBe(
      'unix:///run/containerd/containerd.sock',
    );
    expect(grpcTarget('unix:/run/crio/crio.sock')).toBe('unix:///run/crio/crio.sock');
    expect(grpcTarget('/run/crio/crio.sock')).toBe('unix:///run/crio/crio.sock');
  });

  it('rejects endpoints that are not unix sockets', () => {
    const e = (() => {
      try {
        grpcTarget('tcp://127.0.0.1:1234');
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as InvalidArgumentError).field).toBe('endpoint');
  });
});

describe('a dead socket', () => {
  it('gives a clear "runtime unreachable" error', async () => {
    const endpoint = `unix:///tmp/na-cri-no-such-socket-${process.pid}-${Date.now()}.sock`;
    const e = await rejection(createCriClient({ endpoint, timeoutMs: 5000 }));
    expect(e).toBeInstanceOf(RuntimeUnreachableError);
    expect(isUnavailable(e)).toBe(true);
    expect((e as Error).message).toContain(`runtime unreachable at ${endpoint}`);
    // The cause an operator can act on, without grpc-js's wrapper and its empty resolution note.
    expect((e as Error).message).toMatch(
      /\(Version\): connect ENOENT \/tmp\/na-cri-no-such-socket-[^ ]+\.sock; is the container runtime running/,
    );
    expect((e as Error).message).not.toContain('Resolution note');
    expect((e as CriError).rpc).toBe('Version');
  });

  it('reads the cause out of grpc-js connection-failure texts', () => {
    expect(
      connectionFailure(
        'No connection established. Last error: Error: connect ECONNREFUSED /run/c.sock. Resolution note: ',
      ),
    ).toBe('connect ECONNREFUSED /run/c.sock');
    expect(
      connectionFailure('No connection established. Last error: boom. Resolution note: dns said no'),
    ).toBe('boom (dns said no)');
    expect(connectionFailure('Connection dropped')).toBe('Connection dropped');
  });
});

describe('CriClient against the fake runtime', () => {
  let fake: FakeRuntime;
  let cri: CriClient;

  beforeAll(async () => {
    fake = await FakeRuntime.start({ images: [{ ref: BUSYBOX, cmd: ['sh'] }] });
    cri = await createCriClient({ endpoint: fake.endpoint });
  });

  afterAll(async () => {
    cri.close();
    await fake.stop();
  });

  async function runningContainer(name: string): Promise<{ podSandboxId: string; containerId: string }> {
    const sandboxConfig = { metadata: { name, uid: `${name}-uid`, namespace: 'ns' } };
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig,
      config: { metadata: { name: 'c' }, image: { image: BUSYBOX }, command: ['sleep', 'infinity'] },
    });
    await cri.startContainer({ containerId });
    return { podSandboxId, containerId };
  }

  it('checks the runtime API version on connect', async () => {
    expect(cri.runtimeVersion).toMatchObject({ runtimeName: 'fake', runtimeApiVersion: 'v1' });
    const old = await FakeRuntime.start({ runtimeApiVersion: 'v1alpha2' });
    try {
      const e = await rejection(createCriClient({ endpoint: old.endpoint }));
      expect(e).toBeInstanceOf(UnsupportedRuntimeApiError);
      expect((e as UnsupportedRuntimeApiError).value).toBe('v1alpha2');
      const unchecked = await createCriClient({ endpoint: old.endpoint, skipVersionCheck: true });
      expect(unchecked.runtimeVersion).toBeUndefined();
      unchecked.close();
    } finally {
      await old.stop();
    }
  });

  it('surfaces injected gRPC errors as CriError with code and RPC name', async () => {
    fake.injectError('ListContainers', { code: 5, details: 'scripted miss' });
    const e = await rejection(cri.listContainers());
    expect(isNotFound(e)).toBe(true);
    expect(e).toMatchObject({
      name: 'CriError',
      code: 'NOT_FOUND',
      grpcCode: 5,
      rpc: 'ListContainers',
      codeName: 'NOT_FOUND',
      details: 'scripted miss',
    });
    expect(e).toBeInstanceOf(CodedError);
    // Only once: the next call succeeds.
    await expect(cri.listContainers()).resolves.toHaveProperty('containers');
  });

  it('enforces the per-call deadline', async () => {
    fake.injectDelay('ListPodSandbox', 400);
    try {
      const e = await rejection(cri.listPodSandbox({}, { timeoutMs: 50 }));
      expect(isDeadlineExceeded(e)).toBe(true);
    } finally {
      fake.injectDelay('ListPodSandbox', 0);
    }
  });

  it('cancels a call when its AbortSignal fires', async () => {
    fake.injectDelay('ImageFsInfo', 400);
    try {
      const ac = new AbortController();
      const p = cri.imageFsInfo({}, { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      expect(isCancelled(await rejection(p))).toBe(true);
    } finally {
      fake.injectDelay('ImageFsInfo', 0);
    }
    const before = fake.calls.length;
    const aborted = AbortSignal.abort();
    expect(isCancelled(await rejection(cri.version(undefined, { signal: aborted })))).toBe(true);
    expect(fake.calls.length).toBe(before);
  });

  it('uses bigint for 64-bit values and accepts numbers in requests', async () => {
    const { containerId } = await runningContainer('bigint');
    const { status } = await cri.containerStatus({ containerId });
    expect(typeof status?.createdAt).toBe('bigint');
    expect(status?.createdAt).toBeGreaterThan(1_600_000_000_000_000_000n);
    await cri.stopContainer({ containerId, timeout: 0 });
    await cri.stopContainer({ containerId, timeout: 0n });
  });

  it('lets tests script container exits and exec results', async () => {
    const { containerId } = await runningContainer('scripted');
    fake.onExecSync((id, cmd) =>
      id === containerId && cmd[0] === 'probe'
        ? { stdout: 'ok', stderr: '', exitCode: 0, blocks: false }
        : undefined,
    );
    try {
      const r = await cri.execSync({ containerId, cmd: ['probe'] });
      expect(Buffer.from(r.stdout).toString()).toBe('ok');
      const fallback = await cri.execSync({ containerId, cmd: ['sh', '-c', 'exit 4'] });
      expect(fallback.exitCode).toBe(4);
    } finally {
      fake.onExecSync(undefined);
    }
    fake.exitContainer(containerId, 42, 'OOMKilled');
    const { status } = await cri.containerStatus({ containerId });
    expect(status).toMatchObject({
      state: ContainerState.CONTAINER_EXITED,
      exitCode: 42,
      reason: 'OOMKilled',
    });
  });

  it('kills a container that ignores SIGTERM after its grace period', async () => {
    const { containerId } = await runningContainer('stubborn');
    fake.ignoreSigterm(containerId);
    await cri.stopContainer({ containerId, timeout: 1 });
    const { status } = await cri.containerStatus({ containerId });
    expect(status?.exitCode).toBe(137);
  });

  it('enforces the client-side message size limit (16 MiB by default)', async () => {
    expect(MAX_MESSAGE_BYTES).toBe(16 * 1024 * 1024);
    const { containerId } = await runningContainer('huge');
    fake.onExecSync(() => ({ stdout: 'x'.repeat(4096), stderr: '', exitCode: 0, blocks: false }));
    const small = await createCriClient({ endpoint: fake.endpoint, maxMessageBytes: 1024 });
    try {
      const e = await rejection(small.execSync({ containerId, cmd: ['true'] }));
      expect(e).toBeInstanceOf(CriError);
      expect((e as CriError).codeName).toBe('RESOURCE_EXHAUSTED');
      // The same response fits the default limit.
      expect((await cri.execSync({ containerId, cmd: ['true'] })).stdout.length).toBe(4096);
    } finally {
      small.close();
      fake.onExecSync(undefined);
    }
  });

  it('pulls with credentials when the registry requires them, then removes', async () => {
    fake.addRegistryImage({ ref: 'localhost/private/app:2', auth: { username: 'u', password: 'p' } });
    const denied = await rejection(cri.pullImage({ image: { image: 'localhost/private/app:2' } }));
    expect((denied as CriError).details).toContain('401');
    const { imageRef } = await cri.pullImage({
      image: { image: 'localhost/private/app:2' },
      auth: { username: 'u', password: 'p' },
    });
    expect(imageRef).toMatch(/^sha256:/);
    expect((await cri.imageStatus({ image: { image: imageRef } })).image?.repoTags).toEqual([
      'localhost/private/app:2',
    ]);
    const listed = await cri.listImages({ filter: { image: { image: 'localhost/private/app:2' } } });
    expect(listed.images.map((i) => i.id)).toEqual([imageRef]);
    await cri.removeImage({ image: { image: 'localhost/private/app:2' } });
    expect((await cri.imageStatus({ image: { image: 'localhost/private/app:2' } })).image).toBeNull();
  });

  it('serves status, runtime config, stats and image filesystem info', async () => {
    const verbose = await cri.status({ verbose: true });
    expect(Object.keys(verbose.info).length).toBeGreaterThan(0);
    await cri.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.1.0.0/24' } } });
    expect(JSON.parse((await cri.status({ verbose: true })).info.config ?? '{}')).toMatchObject({
      podCIDR: '10.1.0.0/24',
    });
    expect((await cri.runtimeConfig()).linux?.cgroupDriver).toBe(1);
    const { containerId } = await runningContainer('stats');
    const { stats } = await cri.containerStats({ containerId });
    expect(stats?.attributes?.id).toBe(containerId);
    expect(typeof stats?.memory?.workingSetBytes?.value).toBe('bigint');
    const fs = await cri.imageFsInfo();
    expect(fs.imageFilesystems[0]?.usedBytes?.value).toBeGreaterThan(0n);
  });

  it('refuses containers in a stopped sandbox, like containerd', async () => {
    const sandboxConfig = { metadata: { name: 'stopped', uid: 'stopped-uid', namespace: 'ns' } };
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    await cri.stopPodSandbox({ podSandboxId });
    const { status } = await cri.podSandboxStatus({ podSandboxId });
    expect(status?.network?.ip).toBe('');
    const e = await rejection(
      cri.createContainer({
        podSandboxId,
        sandboxConfig,
        config: { metadata: { name: 'x' }, image: { image: BUSYBOX } },
      }),
    );
    expect(isNotFound(e)).toBe(true);
    const notReady = await cri.listPodSandbox({ filter: { id: podSandboxId, state: { state: 1 } } });
    expect(notReady.items).toHaveLength(1);
  });

  it('answers RPCs the fake does not serve with UNIMPLEMENTED', async () => {
    expect(isUnimplemented(await rejection(cri.listMetricDescriptors()))).toBe(true);
  });

  it('ends the event stream quietly when aborted', async () => {
    const ac = new AbortController();
    const it = cri.getContainerEvents({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const seen: unknown[] = [];
    for await (const ev of it) seen.push(ev);
    expect(seen).toEqual([]);
  });

  it('reports UNIMPLEMENTED events when configured like containerd 1.6', async () => {
    const old = await FakeRuntime.start({ containerEvents: false });
    const client = await createCriClient({ endpoint: old.endpoint });
    try {
      const e = await rejection(
        (async () => {
          for await (const _ of client.getContainerEvents()) {
            // nothing arrives
          }
        })(),
      );
      expect(isUnimplemented(e)).toBe(true);
    } finally {
      client.close();
      await old.stop();
    }
  });

  it('lists 500 containers with filters', async () => {
    const sandboxConfig = { metadata: { name: 'many', uid: 'many-uid', namespace: 'ns' } };
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    for (let i = 0; i < 500; i++) {
      await cri.createContainer({
        podSandboxId,
        sandboxConfig,
        config: { metadata: { name: `c${i}` }, image: { image: BUSYBOX }, labels: { parity: String(i % 2) } },
      });
    }
    const all = await cri.listContainers({ filter: { podSandboxId } });
    expect(all.containers).toHaveLength(500);
    const even = await cri.listContainers({ filter: { podSandboxId, labelSelector: { parity: '0' } } });
    expect(even.containers).toHaveLength(250);
    await cri.removePodSandbox({ podSandboxId });
    expect((await cri.listContainers({ filter: { podSandboxId } })).containers).toHaveLength(0);
  });
});
