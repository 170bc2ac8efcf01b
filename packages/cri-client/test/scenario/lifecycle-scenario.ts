// One lifecycle scenario, run against the fake runtime (test/fake-lifecycle.test.ts) and against a
// real containerd (test/real/containerd-lifecycle.test.ts), so the fake stays faithful.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CriClient,
  CriError,
  collectStream,
  createCriClient,
  isNotFound,
  isUnimplemented,
  parseCriLogLine,
  type StreamConnector,
  type UnaryTransport,
} from '../../src/index';
import { ContainerEventType, ContainerState, PodSandboxState } from '../../src/types/index';

export interface ScenarioTarget {
  endpoint: string;
  pauseImage: string;
  busyboxImage: string;
  /** Pod CIDR the runtime assigns sandbox IPs from. */
  podSubnet: string;
  /** Directory the scenario may use as PodSandboxConfig.logDirectory. */
  logRoot: string;
  /** Whether GetContainerEvents is served (containerd 1.6: no; 2.x: yes). */
  containerEvents: boolean;
  /**
   * What StopContainer / StopPodSandbox answer for an ID the runtime never had: NotFound
   * (containerd 1.6, the fake) or success (containerd 2.x, which reads the CRI's "stop is
   * idempotent" as covering unknown IDs).
   */
  stopOfUnknownId: 'not-found' | 'ok';
  /** How to reach the runtime's streaming server (default TCP). */
  connector?: StreamConnector;
  /** The client's unary transport (default gRPC over the endpoint's socket). */
  transport?: UnaryTransport;
  teardown(): Promise<void>;
}

const BUSYBOX_REF_PATTERN = /^sha256:[0-9a-f]{64}$/;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function inSubnet(ip: string, cidr: string): boolean {
  const [base = '', len = '32'] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const start = Math.floor(ipv4ToInt(base) / size) * size;
  const n = ipv4ToInt(ip);
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && n > start && n < start + size - 1;
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    last = await fn();
  }
  return last;
}

async function expectCriError(p: Promise<unknown>): Promise<CriError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CriError);
    return e as CriError;
  }
  throw new Error('expected the call to fail');
}

export function defineLifecycleScenario(name: string, setup: () => Promise<ScenarioTarget>): void {
  describe(`CRI lifecycle against ${name}`, () => {
    let target: ScenarioTarget;
    let cri: CriClient;
    const run = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    let sandboxConfig: Parameters<CriClient['runPodSandbox']>[0]['config'];
    let podSandboxId = '';
    let mainId = '';

    beforeAll(async () => {
      target = await setup();
      cri = await createCriClient({
        endpoint: target.endpoint,
        timeoutMs: 30_000,
        transport: target.transport,
      });
      sandboxConfig = {
        metadata: { name: `scenario-${run}`, uid: `uid-${run}`, namespace: 'default', attempt: 0 },
        hostname: 'scenario',
        logDirectory: join(target.logRoot, `pod-${run}`),
        labels: { 'nodeagent.io/run': run },
        annotations: { 'nodeagent.io/purpose': 'scenario' },
        linux: {},
      };
    }, 120_000);

    afterAll(async () => {
      cri?.close();
      await target?.teardown();
    }, 60_000);

    it('speaks runtime.v1 and reports ready', async () => {
      expect(cri.runtimeVersion?.runtimeApiVersion).toBe('v1');
      const st = await cri.status({ verbose: false });
      const conditions = Object.fromEntries((st.status?.conditions ?? []).map((c) => [c.type, c.status]));
      expect(conditions).toMatchObject({ RuntimeReady: true, NetworkReady: true });
    });

    it('lists the local images and reports status of present and absent ones', async () => {
      const { images } = await cri.listImages();
      const tags = images.flatMap((i) => i.repoTags);
      expect(tags).toEqual(expect.arrayContaining([target.busyboxImage, target.pauseImage]));
      const bb = await cri.imageStatus({ image: { image: target.busyboxImage } });
      expect(bb.image?.id).toMatch(BUSYBOX_REF_PATTERN);
      expect(typeof bb.image?.size).toBe('bigint');
      expect((bb.image?.size ?? 0n) > 0n).toBe(true);
      const missing = await cri.imageStatus({ image: { image: 'localhost/nodeagent/absent:0.0' } });
      expect(missing.image).toBeNull();
    });

    it('runs a sandbox with an IP from the pod subnet', async () => {
      ({ podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig }));
      expect(podSandboxId).toMatch(/^[0-9a-f]{64}$/);
      const { status } = await cri.podSandboxStatus({ podSandboxId });
      expect(status?.state).toBe(PodSandboxState.SANDBOX_READY);
      expect(status?.metadata?.name).toBe(`scenario-${run}`);
      expect(status?.labels['nodeagent.io/run']).toBe(run);
      expect(status?.annotations['nodeagent.io/purpose']).toBe('scenario');
      expect(typeof status?.createdAt).toBe('bigint');
      expect(inSubnet(status?.network?.ip ?? '', target.podSubnet)).toBe(true);
      const listed = await cri.listPodSandbox({ filter: { labelSelector: { 'nodeagent.io/run': run } } });
      expect(listed.items.map((s) => s.id)).toEqual([podSandboxId]);
    });

    it('refuses a second sandbox with the same name', async () => {
      const err = await expectCriError(cri.runPodSandbox({ config: sandboxConfig }));
      expect(err.rpc).toBe('RunPodSandbox');
      expect(err.details).toContain('reserve');
    });

    it('creates and starts a container, and lists it by filters', async () => {
      ({ containerId: mainId } = await cri.createContainer({
        podSandboxId,
        sandboxConfig,
        config: {
          metadata: { name: 'main' },
          image: { image: target.busyboxImage },
          command: ['sh', '-c', 'echo hello; echo oops >&2; sleep 3600'],
          logPath: 'main/0.log',
          labels: { role: 'main' },
        },
      }));
      const created = await cri.containerStatus({ containerId: mainId });
      expect(created.status?.state).toBe(ContainerState.CONTAINER_CREATED);
      const notYet = await expectCriError(cri.execSync({ containerId: mainId, cmd: ['true'] }));
      expect(notYet.details).toContain('CONTAINER_CREATED');

      await cri.startContainer({ containerId: mainId });
      const { status } = await cri.containerStatus({ containerId: mainId });
      expect(status?.state).toBe(ContainerState.CONTAINER_RUNNING);
      expect((status?.startedAt ?? 0n) >= (status?.createdAt ?? 1n)).toBe(true);
      expect(status?.image?.image).toBe(target.busyboxImage);
      expect(status?.imageRef).toMatch(BUSYBOX_REF_PATTERN);
      expect(status?.logPath).toBe(join(target.logRoot, `pod-${run}`, 'main/0.log'));

      const bySandbox = await cri.listContainers({ filter: { podSandboxId } });
      expect(bySandbox.containers.map((c) => c.id)).toEqual([mainId]);
      const running = await cri.listContainers({
        filter: { podSandboxId, state: { state: ContainerState.CONTAINER_RUNNING } },
      });
      expect(running.containers.map((c) => c.id)).toEqual([mainId]);
      const byLabel = await cri.listContainers({ filter: { labelSelector: { role: 'main' }, podSandboxId } });
      expect(byLabel.containers).toHaveLength(1);
      const byOtherLabel = await cri.listContainers({
        filter: { labelSelector: { role: 'other' }, podSandboxId },
      });
      expect(byOtherLabel.containers).toHaveLength(0);
      const byPrefix = await cri.listContainers({ filter: { id: mainId.slice(0, 12) } });
      expect(byPrefix.containers.map((c) => c.id)).toEqual([mainId]);
    });

    it('runs ExecSync and returns stdout, stderr and the exit code', async () => {
      const r = await cri.execSync({
        containerId: mainId,
        cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
        timeout: 10,
      });
      expect(Buffer.from(r.stdout).toString()).toBe('out\n');
      expect(Buffer.from(r.stderr).toString()).toBe('err\n');
      expect(r.exitCode).toBe(3);
      const missing = await expectCriError(cri.execSync({ containerId: mainId, cmd: ['no-such-binary'] }));
      expect(missing.details).toContain('no-such-binary');
    });

    it('streams an Exec session: output, and the exit code from the status channel', async () => {
      const opts = target.connector ? { connector: target.connector } : {};
      const failing = await cri.execStream(
        {
          containerId: mainId,
          cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
          stdout: true,
          stderr: true,
        },
        opts,
      );
      expect(failing.protocol).toBe('v4.channel.k8s.io');
      expect(await collectStream(failing)).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
      const ok = await cri.execStream({ containerId: mainId, cmd: ['echo', 'fine'], stdout: true }, opts);
      expect(await collectStream(ok)).toMatchObject({ stdout: 'fine\n', exitCode: 0 });
    });

    it('writes the container output to a CRI-format log file', async () => {
      const path = join(target.logRoot, `pod-${run}`, 'main/0.log');
      const text = await eventually(
        () => readFile(path, 'utf8').catch(() => ''),
        (t) => t.split('\n').filter(Boolean).length >= 2,
      );
      const lines = text.split('\n').filter(Boolean).map(parseCriLogLine);
      expect(lines.map((l) => [l.stream, l.full, l.content])).toEqual(
        expect.arrayContaining([
          ['stdout', true, 'hello'],
          ['stderr', true, 'oops'],
        ]),
      );
      expect(Number.isNaN(Date.parse(lines[0]?.time ?? ''))).toBe(false);
    });

    it('reports a container that exits by itself with its exit code', async () => {
      const { containerId } = await cri.createContainer({
        podSandboxId,
        sandboxConfig,
        config: {
          metadata: { name: 'short' },
          image: { image: target.busyboxImage },
          command: ['sh', '-c', 'echo bye; exit 7'],
          logPath: 'short/0.log',
        },
      });
      await cri.startContainer({ containerId });
      const st = await eventually(
        () => cri.containerStatus({ containerId }),
        (s) => s.status?.state === ContainerState.CONTAINER_EXITED,
      );
      expect(st.status?.exitCode).toBe(7);
      expect(st.status?.reason).toBe('Error');
      const exec = await expectCriError(cri.execSync({ containerId, cmd: ['true'] }));
      expect(exec.details).toContain('CONTAINER_EXITED');
      await cri.removeContainer({ containerId });
    });

    it('streams container events, or says the runtime does not serve them', async () => {
      const ac = new AbortController();
      const seen: Array<[number, string]> = [];
      let ended = false;
      const consumed = (async () => {
        try {
          for await (const ev of cri.getContainerEvents({ signal: ac.signal })) {
            seen.push([ev.containerEventType, ev.containerId]);
          }
        } finally {
          ended = true;
        }
      })();
      if (!target.containerEvents) {
        const err = await consumed.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isUnimplemented(err)).toBe(true);
        return;
      }
      const cycle = async (name: string) => {
        const { containerId } = await cri.createContainer({
          podSandboxId,
          sandboxConfig,
          config: {
            metadata: { name },
            image: { image: target.busyboxImage },
            command: ['sh', '-c', 'exit 0'],
          },
        });
        await cri.startContainer({ containerId });
        await eventually(
          () => cri.containerStatus({ containerId }),
          (st) => st.status?.state === ContainerState.CONTAINER_EXITED,
        );
        await cri.removeContainer({ containerId });
        return containerId;
      };
      try {
        // The subscription is live once any event arrives; warm up until then. Each round also
        // waits a moment: an in-process transport's cycles take no I/O, and fifty of them can end
        // before the event stream's socket has connected.
        for (let i = 0; i < 500 && seen.length === 0 && !ended; i++) {
          await cycle(`warmup-${i}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const id = await cycle('evented');
        const forId = () => seen.filter(([, cid]) => cid === id).map(([t]) => t);
        await eventually(
          async () => forId(),
          (types) => types.length >= 4,
        );
        expect(forId()).toEqual([
          ContainerEventType.CONTAINER_CREATED_EVENT,
          ContainerEventType.CONTAINER_STARTED_EVENT,
          ContainerEventType.CONTAINER_STOPPED_EVENT,
          ContainerEventType.CONTAINER_DELETED_EVENT,
        ]);
      } finally {
        ac.abort();
        await consumed;
      }
    });

    it('stops a running container within its timeout, idempotently', async () => {
      await cri.stopContainer({ containerId: mainId, timeout: 2 });
      const { status } = await cri.containerStatus({ containerId: mainId });
      expect(status?.state).toBe(ContainerState.CONTAINER_EXITED);
      // busybox as PID 1 dies on the SIGTERM StopContainer sends first.
      expect(status?.exitCode).toBe(143);
      expect((status?.finishedAt ?? 0n) >= (status?.startedAt ?? 1n)).toBe(true);
      await cri.stopContainer({ containerId: mainId, timeout: 2 });
    });

    it('removes the container; it is then NotFound, and removing again is fine', async () => {
      await cri.removeContainer({ containerId: mainId });
      const err = await expectCriError(cri.containerStatus({ containerId: mainId }));
      expect(isNotFound(err)).toBe(true);
      expect(err.rpc).toBe('ContainerStatus');
      await cri.removeContainer({ containerId: mainId });
    });

    it('stops and removes the sandbox', async () => {
      await cri.stopPodSandbox({ podSandboxId });
      const { status } = await cri.podSandboxStatus({ podSandboxId });
      expect(status?.state).toBe(PodSandboxState.SANDBOX_NOTREADY);
      await cri.removePodSandbox({ podSandboxId });
      expect(isNotFound(await expectCriError(cri.podSandboxStatus({ podSandboxId })))).toBe(true);
      const listed = await cri.listPodSandbox({ filter: { labelSelector: { 'nodeagent.io/run': run } } });
      expect(listed.items).toHaveLength(0);
    });

    it('answers unknown IDs with NotFound', async () => {
      const id = 'f'.repeat(64);
      const calls = [
        () => cri.containerStatus({ containerId: id }),
        () => cri.startContainer({ containerId: id }),
        () => cri.podSandboxStatus({ podSandboxId: id }),
        () => cri.execSync({ containerId: id, cmd: ['true'] }),
      ];
      const stops = [
        () => cri.stopContainer({ containerId: id }),
        () => cri.stopPodSandbox({ podSandboxId: id }),
      ];
      for (const call of target.stopOfUnknownId === 'not-found' ? [...calls, ...stops] : calls) {
        expect(isNotFound(await expectCriError(call()))).toBe(true);
      }
      if (target.stopOfUnknownId === 'ok') for (const stop of stops) expect(await stop()).toEqual({});
      // Removal is idempotent.
      await cri.removeContainer({ containerId: id });
      await cri.removePodSandbox({ podSandboxId: id });
    });

    it('gives clear errors for a missing image and a bad image reference', async () => {
      const { podSandboxId: sid } = await cri.runPodSandbox({
        config: {
          ...sandboxConfig,
          metadata: { name: `img-${run}`, uid: `img-${run}`, namespace: 'default' },
        },
      });
      try {
        const missing = await expectCriError(
          cri.createContainer({
            podSandboxId: sid,
            sandboxConfig,
            config: { metadata: { name: 'x' }, image: { image: 'localhost/nodeagent/absent:0.0' } },
          }),
        );
        expect(isNotFound(missing)).toBe(true);
        expect(missing.details).toContain('localhost/nodeagent/absent:0.0');
      } finally {
        await cri.stopPodSandbox({ podSandboxId: sid });
        await cri.removePodSandbox({ podSandboxId: sid });
      }
      const bad = await expectCriError(cri.pullImage({ image: { image: 'Not A Valid Ref!!' } }));
      expect(bad.rpc).toBe('PullImage');
      expect(bad.details).toContain('invalid reference format');
    });
  });
}
