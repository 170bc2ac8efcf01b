import { createServer, type IncomingMessage } from 'node:http';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { coordinationV1Requests, coreV1Requests } from '@nodeagent/informer';
import { setRestClientMetrics } from '@nodeagent/informer/rest-client-metrics';
import { createKubeletMetrics } from '@nodeagent/kubelet';
import { apiEventSink } from '@nodeagent/kubelet/sources';
import { type MachineInfo, NODE_LEASE_NAMESPACE, NodeStatusReporter } from '@nodeagent/node-status';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ApiClientSettings,
  clientGoDefaultBurst,
  clientGoDefaultQPS,
  heartbeatTimeoutMs,
  kubeClientRate,
  kubeletApiClients,
  zeroBurstReason,
} from '../src/kubelet-api-clients';
import { resolveKubeletOptions } from '../src/kubelet-flags';
import { StartupRefusedError } from '../src/startup-checks';

let api: ApiServer;
beforeEach(async () => {
  api = await startApiServer();
});
afterEach(async () => {
  await api.close();
});

/** The bucket's clock: a sleep moves it on, so waits are measured, never raced. */
function movingClock() {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

/** A bucket clock that stands still and whose sleeps last until released: a wait stays a wait. */
function heldClock() {
  const waits: number[] = [];
  const held: (() => void)[] = [];
  return {
    waits,
    release: () => {
      for (const resume of held.splice(0)) resume();
    },
    now: () => 0,
    sleep: (ms: number) => {
      waits.push(ms);
      return new Promise<void>((resolve) => held.push(resolve));
    },
  };
}

/** A rate and upstream's default heartbeat settings (nodeStatusUpdateFrequency 10s, Lease 40 s). */
function settings(kubeAPIQPS: number, kubeAPIBurst: number): ApiClientSettings {
  return { kubeAPIQPS, kubeAPIBurst, nodeStatusUpdateFrequency: '10s', nodeLeaseDurationSeconds: 40 };
}

/** A heartbeat deadline that never comes: these tests are about the bucket. */
const noDeadline = { abortAfter: () => new AbortController().signal };

/** Lets the promise chains of requests under way reach their next I/O or timer. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const machine: MachineInfo = {
  numCores: 2,
  memoryCapacityBytes: 4 * 2 ** 30,
  ephemeralStorageBytes: 20 * 2 ** 30,
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  hostname: 'hb-node',
  hugePages: [],
};

async function createNode(name: string): Promise<void> {
  await coreV1Requests(api.kubeConfig()).createNode({ body: { metadata: { name } } });
}

describe('kubeAPIQPS / kubeAPIBurst as client-go reads them', () => {
  it('takes both values as given, and 0 as client-go does', () => {
    expect(kubeClientRate({ kubeAPIQPS: 50, kubeAPIBurst: 100 })).toEqual({ qps: 50, burst: 100 });
    expect(kubeClientRate({ kubeAPIQPS: 0, kubeAPIBurst: 100 })).toEqual({
      qps: clientGoDefaultQPS,
      burst: 100,
    });
    expect(kubeClientRate({ kubeAPIQPS: 0, kubeAPIBurst: 0 })).toEqual({
      qps: 5,
      burst: clientGoDefaultBurst,
    });
    expect(clientGoDefaultBurst).toBe(10);
  });

  it("refuses QPS above 0 with burst 0, in clientset.NewForConfig's words", () => {
    expect(() => kubeClientRate({ kubeAPIQPS: 50, kubeAPIBurst: 0 })).toThrow(StartupRefusedError);
    expect(() => kubeClientRate({ kubeAPIQPS: 50, kubeAPIBurst: 0 })).toThrow(
      `failed to run Kubelet: ${zeroBurstReason}`,
    );
  });

  it("spreads requests beyond the flags' burst at their QPS", async () => {
    await createNode('n1');
    const { config } = await resolveKubeletOptions(['--kube-api-qps=4', '--kube-api-burst=3']);
    const clock = movingClock();
    const core = coreV1Requests(
      kubeletApiClients(api.kubeConfig(), config, { ...clock, ...noDeadline }).kube,
    );
    for (let i = 0; i < 7; i++) expect((await core.readNode({ name: 'n1' })).metadata?.name).toBe('n1');
    // Three from the bucket, then one every 1/4 s.
    expect(clock.waits).toEqual([250, 250, 250, 250]);
    expect(clock.now()).toBe(1000);
  });

  it('lets a concurrent burst wait in order, the k-th beyond the burst k/QPS', async () => {
    await createNode('n1');
    const clock = heldClock();
    const core = coreV1Requests(
      kubeletApiClients(api.kubeConfig(), settings(2, 2), { ...clock, ...noDeadline }).kube,
    );
    const reads = Array.from({ length: 5 }, () => core.readNode({ name: 'n1' }));
    await settle();
    expect(clock.waits).toEqual([500, 1000, 1500]);
    clock.release();
    expect((await Promise.all(reads)).map((n) => n.metadata?.name)).toEqual(['n1', 'n1', 'n1', 'n1', 'n1']);
  });

  it("gives kubeAPIQPS 0 client-go's 5 QPS and burst 10", async () => {
    await createNode('n1');
    const { config } = await resolveKubeletOptions(['--kube-api-qps=0', '--kube-api-burst=0']);
    const clock = heldClock();
    const core = coreV1Requests(
      kubeletApiClients(api.kubeConfig(), config, { ...clock, ...noDeadline }).kube,
    );
    const reads = Array.from({ length: 12 }, () => core.readNode({ name: 'n1' }));
    await settle();
    expect(clock.waits).toEqual([200, 400]);
    clock.release();
    await Promise.all(reads);
  });
});

describe('the heartbeat and event clients', () => {
  it('registers through the main client, then patches status and renews the Lease without its tokens', async () => {
    const bucket = heldClock();
    const clients = kubeletApiClients(api.kubeConfig(), settings(1, 1), { ...bucket, ...noDeadline });
    const clock = new FakeClock(Date.UTC(2026, 10, 27));
    let memoryPressure = false;
    const reporter = new NodeStatusReporter({
      kubeConfig: clients.kube,
      heartbeatKubeConfig: clients.heartbeat,
      config: { nodeName: 'hb-node', nodeIPs: ['10.0.0.5'] },
      machineInfo: async () => machine,
      pressure: () => ({ memoryPressure }),
      clock,
    });
    try {
      // Registration takes the main bucket's only token; the first status and Lease take none.
      await reporter.start();
      await clock.whenPending(2);
      expect(bucket.waits).toEqual([]);
      const renewed = () =>
        coordinationV1Requests(api.kubeConfig())
          .readNamespacedLease({ name: 'hb-node', namespace: NODE_LEASE_NAMESPACE })
          .then((lease) => lease.spec?.renewTime);
      const firstRenewal = await renewed();

      // The main bucket is empty and its next request waits until released.
      let podClientDone = false;
      const podClientRead = coreV1Requests(clients.kube)
        .readNode({ name: 'hb-node' })
        .finally(() => {
          podClientDone = true;
        });
      await settle();
      expect(bucket.waits).toEqual([1000]);

      // A status change and a Lease renewal go out meanwhile, neither waiting.
      memoryPressure = true;
      await clock.advanceAsync(10_000, () => clock.whenPending(2));
      const node = await coreV1Requests(api.kubeConfig()).readNode({ name: 'hb-node' });
      expect(node.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('True');
      expect(await renewed()).not.toBe(firstRenewal);
      expect(bucket.waits).toEqual([1000]);
      expect(podClientDone).toBe(false);

      bucket.release();
      expect((await podClientRead).metadata?.name).toBe('hb-node');
    } finally {
      bucket.release();
      await reporter.stop();
    }
  });

  it("observes the main client's waits in rest_client_rate_limiter_duration_seconds, the heartbeat's not", async () => {
    await createNode('n1');
    const metrics = createKubeletMetrics();
    setRestClientMetrics(metrics.restClient);
    try {
      const clients = kubeletApiClients(api.kubeConfig(), settings(1, 1), {
        ...movingClock(),
        ...noDeadline,
      });
      for (let i = 0; i < 3; i++) await coreV1Requests(clients.kube).readNode({ name: 'n1' });
      for (let i = 0; i < 2; i++) await coreV1Requests(clients.heartbeat).readNode({ name: 'n1' });
      const text = await metrics.registry.metrics();
      const host = new URL(api.url).host;
      expect(text).toContain(`rest_client_requests_total{code="200",host="${host}",method="GET"} 5\n`);
      expect(text).toContain(
        `rest_client_rate_limiter_duration_seconds_count{host="${host}",verb="GET"} 3\n`,
      );
    } finally {
      setRestClientMetrics(undefined);
    }
  });

  it('writes events through their own limiter, not the main bucket', async () => {
    const bucket = heldClock();
    const clients = kubeletApiClients(api.kubeConfig(), settings(1, 1), { ...bucket, ...noDeadline });
    await createNode('n1');
    const main = coreV1Requests(clients.kube);
    await main.readNode({ name: 'n1' });
    const waiting = main.readNode({ name: 'n1' });
    await settle();
    expect(bucket.waits).toEqual([1000]);

    const events = apiEventSink(coreV1Requests(clients.events), { nodeName: 'n1' });
    events.node('Normal', 'Starting', 'Starting kubelet.');
    await events.flush();
    const written = await api
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: 'default' });
    expect(written.items.map((e) => e.reason)).toEqual(['Starting']);
    expect(bucket.waits).toEqual([1000]);
    bucket.release();
    await waiting;
  });
});

describe("the heartbeat client's timeout", () => {
  it("is nodeStatusUpdateFrequency, or the Lease duration when shorter, as upstream's", async () => {
    expect(heartbeatTimeoutMs((await resolveKubeletOptions([])).config)).toBe(10_000);
    expect(heartbeatTimeoutMs({ nodeStatusUpdateFrequency: '1m', nodeLeaseDurationSeconds: 40 })).toBe(
      40_000,
    );
    expect(heartbeatTimeoutMs({ nodeStatusUpdateFrequency: '1s', nodeLeaseDurationSeconds: 40 })).toBe(1_000);
  });

  it('ends a heartbeat request the server does not answer; main requests get no timeout', async () => {
    // A server that takes requests and never answers them.
    const arrived: IncomingMessage[] = [];
    const silent = createServer((req) => arrived.push(req));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const deadlines: { ms: number; timeout: AbortController }[] = [];
    const abortAfter = (ms: number) => {
      const timeout = new AbortController();
      deadlines.push({ ms, timeout });
      return timeout.signal;
    };
    const clients = kubeletApiClients(kubeConfig, settings(50, 100), { ...movingClock(), abortAfter });
    try {
      const heartbeat = coreV1Requests(clients.heartbeat).readNode({ name: 'n1' });
      const main = coreV1Requests(clients.kube).readNode({ name: 'n1' });
      main.catch(() => undefined);
      while (arrived.length < 2) await settle();
      expect(deadlines.map((d) => d.ms)).toEqual([10_000]);
      deadlines[0]?.timeout.abort(new Error('heartbeat timeout'));
      await expect(heartbeat).rejects.toMatchObject({
        name: 'AbortError',
        cause: expect.objectContaining({ message: 'heartbeat timeout' }),
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
