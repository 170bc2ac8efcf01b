import { execFileSync } from 'node:child_process';
import type { RequestOptions } from 'node:https';
import {
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
} from '@kubernetes/client-node';
import { closeAllConnections } from '@nodeagent/informer/connections';
import { FakeClock, parseQuantity } from '@nodeagent/primitives';
import { type ApiServer, startApiServer, startTcpRelay } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type MachineInfo,
  type MachineSource,
  NODE_LEASE_NAMESPACE,
  type NodeStatusConfig,
  NodeStatusReporter,
  readMachineInfo,
} from '../src/index';

const machine: MachineInfo = {
  numCores: 4,
  memoryCapacityBytes: 8 * 2 ** 30,
  ephemeralStorageBytes: 50 * 2 ** 30,
  machineID: 'machine-1',
  systemUUID: 'uuid-1',
  bootID: 'boot-1',
  kernelVersion: '6.1.0-test',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  hostname: 'node-a',
  hugePages: [{ pageSizeBytes: 2 * 2 ** 20, count: 0 }],
};

let server: ApiServer;
let core: CoreV1Api;
let coordination: CoordinationV1Api;
let clock: FakeClock;
const reporters: NodeStatusReporter[] = [];

beforeEach(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  coordination = server.kubeConfig().makeApiClient(CoordinationV1Api);
  clock = new FakeClock(Date.UTC(2026, 0, 1));
});

afterEach(async () => {
  await Promise.all(reporters.splice(0).map((r) => r.stop()));
  await server.close();
});

function reporter(
  config: Partial<NodeStatusConfig> = {},
  extra: Partial<ConstructorParameters<typeof NodeStatusReporter>[0]> = {},
) {
  const errors: string[] = [];
  const updates: number[] = [];
  const r = new NodeStatusReporter({
    kubeConfig: server.kubeConfig(),
    config: { nodeName: 'node-a', nodeIPs: ['10.0.0.5'], ...config },
    machineInfo: async () => machine,
    runtimeVersion: async () => ({ runtimeName: 'containerd', runtimeVersion: '1.7.24' }),
    images: async () => [{ names: ['registry.invalid/pause:3.10'], sizeBytes: 320_000 }],
    clock,
    onError: (_err, during) => errors.push(during),
    onStatusUpdate: () => updates.push(clock.now()),
    ...extra,
  });
  reporters.push(r);
  return { r, errors, updates };
}

/** Polls `check` (a watch delivering in real time) until it holds; fails after 20 s. */
async function waitUntil(check: () => boolean | undefined): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const readLease = () => coordination.readNamespacedLease({ name: 'node-a', namespace: NODE_LEASE_NAMESPACE });
const renewMs = (l: V1Lease) => new Date(l.spec!.renewTime!).getTime();

describe('NodeStatusReporter against the in-process API server', () => {
  it('sends Ready within 100 ms of the kubelet turning ready at start, not at the next update period (fastStatusUpdateOnce)', async () => {
    let csiNodeReady = false;
    const { r, updates } = reporter(
      {},
      {
        readyChecks: [
          { name: 'storage', check: () => (csiNodeReady ? undefined : 'CSINode is not yet initialized') },
        ],
      },
    );
    await r.start();
    const ready = async () =>
      (await core.readNode({ name: 'node-a' })).status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(await ready()).toMatchObject({ status: 'False', message: 'CSINode is not yet initialized' });
    // The fast update waits for the node watch's copy of the first status.
    await waitUntil(() => r.watchedNode?.status?.conditions?.some((c) => c.type === 'Ready'));
    await clock.advanceAsync(300, () => clock.whenPending(3));
    expect(updates).toHaveLength(1);
    csiNodeReady = true;
    const t0 = clock.now();
    await clock.advanceAsync(100, () => clock.whenPending(2));
    await waitUntil(() => updates.length === 2);
    expect(updates[1]! - t0).toBeLessThanOrEqual(100);
    expect(await ready()).toMatchObject({ status: 'True', reason: 'KubeletReady' });
  });

  it('gives the fast status update up after nodeReadyGracePeriod (2 min)', async () => {
    const { r, errors } = reporter({}, { readyChecks: [{ name: 'never', check: () => 'never ready' }] });
    await r.start();
    await waitUntil(() => r.watchedNode?.status?.conditions?.some((c) => c.type === 'Ready'));
    await clock.advanceAsync(121_000, () => clock.whenPending(2));
    expect(errors).toContain('Node not becoming ready in time after startup');
  });

  it('registers the Node with labels, taints, unschedulable, status and a Lease owned by it', async () => {
    const { r } = reporter({
      registerWithTaints: [{ key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' }],
      registerSchedulable: false,
      kubeReserved: { cpu: '500m', memory: '1Gi' },
    });
    await r.start();
    await clock.whenPending(2);
    expect(r.registration).toBe('Created');
    const node = await core.readNode({ name: 'node-a' });
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(node.spec?.taints).toEqual([{ key: 'example.com/gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(node.spec?.unschedulable).toBe(true);
    const s = node.status!;
    expect(s.capacity).toEqual({
      cpu: '4',
      memory: '8Gi',
      'ephemeral-storage': '50Gi',
      pods: '110',
      'hugepages-2Mi': '0',
    });
    expect(s.allocatable?.cpu).toBe('3500m');
    expect(s.allocatable?.memory).toBe(`${8 * 1024 - 1024 - 100}Mi`);
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.5' },
      { type: 'Hostname', address: 'node-a' },
    ]);
    expect(s.nodeInfo).toMatchObject({
      machineID: 'machine-1',
      bootID: 'boot-1',
      kernelVersion: '6.1.0-test',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.7.24',
      kubeletVersion: 'v1.36.3',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(s.daemonEndpoints?.kubeletEndpoint?.Port).toBe(10250);
    expect(s.images).toEqual([{ names: ['registry.invalid/pause:3.10'], sizeBytes: 320_000 }]);
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'MemoryPressure=False',
      'DiskPressure=False',
      'PIDPressure=False',
      'Ready=True',
    ]);

    const lease = await readLease();
    expect(lease.spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 40 });
    expect(lease.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: node.metadata?.uid }),
    ]);
  });

  it('registers a Node without ephemeral-storage capacity or allocatable when localStorageCapacityIsolation is false', async () => {
    const { r } = reporter({ localStorageCapacityIsolation: false });
    expect(r.config.localStorageCapacityIsolation).toBe(false);
    await r.start();
    await clock.whenPending(2);
    const s = (await core.readNode({ name: 'node-a' })).status!;
    expect(s.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110', 'hugepages-2Mi': '0' });
    expect(s.allocatable).not.toHaveProperty('ephemeral-storage');
    expect(s.allocatable?.cpu).toBe('4');
    // Upstream's default reports the root filesystem.
    expect(reporter().r.config.localStorageCapacityIsolation).toBe(true);
  });

  it('reports the eviction manager pressure signals as conditions and patches when they change', async () => {
    let pressure = { memoryPressure: false, diskPressure: true, pidPressure: false };
    const { r, updates } = reporter({}, { pressure: () => pressure });
    await r.start();
    await clock.whenPending(2);
    const conditions = async () =>
      Object.fromEntries(
        ((await core.readNode({ name: 'node-a' })).status?.conditions ?? []).map((c) => [
          c.type,
          `${c.status}/${c.reason}`,
        ]),
      );
    expect(await conditions()).toMatchObject({
      MemoryPressure: 'False/KubeletHasSufficientMemory',
      DiskPressure: 'True/KubeletHasDiskPressure',
      PIDPressure: 'False/KubeletHasSufficientPID',
    });
    const before = updates.length;
    pressure = { memoryPressure: true, diskPressure: false, pidPressure: true };
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(updates.length).toBe(before + 1);
    expect(await conditions()).toMatchObject({
      MemoryPressure: 'True/KubeletHasInsufficientMemory',
      DiskPressure: 'False/KubeletHasNoDiskPressure',
      PIDPressure: 'True/KubeletHasInsufficientPID',
    });
  });

  it('reconciles a Node that already exists instead of failing', async () => {
    await core.createNode({
      body: {
        metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'stale', custom: 'kept' } },
        spec: { unschedulable: true },
      },
    });
    const { r } = reporter();
    await r.start();
    expect(r.registration).toBe('Reconciled');
    const node = await core.readNode({ name: 'node-a' });
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      custom: 'kept',
    });
    // Like upstream, spec of an existing Node is left to its owner.
    expect(node.spec?.unschedulable).toBe(true);
    expect(node.status?.nodeInfo?.machineID).toBe('machine-1');
  });

  it('does not register again when the Node is deleted, as upstream: each round tries five times, and the tries after the first report a repeated heartbeat failure', async () => {
    let repeated = 0;
    const { r, errors } = reporter({}, { onRepeatedHeartbeatFailure: () => repeated++ });
    await r.start();
    await clock.whenPending(2);
    await core.deleteNode({ name: 'node-a' });
    await waitUntil(() => r.watchedNode === undefined);
    errors.length = 0;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(errors.filter((e) => e === 'Error updating node status, will retry')).toHaveLength(5);
    expect(errors.filter((e) => e === 'Unable to update node status')).toHaveLength(1);
    expect(repeated).toBe(4);
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(repeated).toBe(8);
    await expect(core.readNode({ name: 'node-a' })).rejects.toMatchObject({ code: 404 });
    expect(r.registration).toBe('Created');
  });

  it('a status patch that fails is tried again in the same round, from a fresh read of the Node', async () => {
    let repeated = 0;
    const { r, errors, updates } = reporter(
      {},
      {
        readyChecks: [{ name: 'flip', check: () => (flip ? 'down' : undefined) }],
        onRepeatedHeartbeatFailure: () => repeated++,
      },
    );
    let flip = false;
    await r.start();
    await clock.whenPending(2);
    const requests: string[] = [];
    const stop = server.observeRequests((req) => {
      if (req.url?.startsWith('/api/v1/nodes/node-a'))
        requests.push(`${req.method} ${req.url.split('?')[0]}`);
    });
    server.faults.failNext(2, 503, {
      match: (method, path) => method === 'PATCH' && path.endsWith('/nodes/node-a/status'),
    });
    flip = true;
    errors.length = 0;
    updates.length = 0;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    stop();
    // Try 0 compares with the node watch's copy; tries 1 and 2 read the Node first.
    expect(requests).toEqual([
      'PATCH /api/v1/nodes/node-a/status',
      'GET /api/v1/nodes/node-a',
      'PATCH /api/v1/nodes/node-a/status',
      'GET /api/v1/nodes/node-a',
      'PATCH /api/v1/nodes/node-a/status',
    ]);
    expect(errors).toEqual([
      'Error updating node status, will retry',
      'Error updating node status, will retry',
    ]);
    expect(repeated).toBe(1);
    expect(updates).toHaveLength(1);
    const node = await core.readNode({ name: 'node-a' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it('a status round whose connection hangs closes the connections at its second failure and succeeds over a new one (onRepeatedHeartbeatFailure → closeAllConnections)', {
    timeout: 120_000,
  }, async () => {
    const tls = await startApiServer({ tls: true });
    const relay = await startTcpRelay(tls.port);
    try {
      const kubeConfig = tls.kubeConfig();
      kubeConfig.clusters = kubeConfig.clusters.map((c) => ({
        ...c,
        server: c.server.replace(/:\d+$/, `:${relay.port}`),
      }));
      // The kubelet's heartbeat client: a deadline on every request (a watch brings its own signal).
      const heartbeat = Object.create(kubeConfig) as KubeConfig;
      heartbeat.applyToHTTPSOptions = async (options) => {
        await kubeConfig.applyToHTTPSOptions(options);
        if ('method' in options) (options as RequestOptions).signal ??= AbortSignal.timeout(5_000);
      };
      let flip = false;
      let repeated = 0;
      const { r, updates } = reporter(
        {},
        {
          kubeConfig,
          heartbeatKubeConfig: heartbeat,
          readyChecks: [{ name: 'flip', check: () => (flip ? 'down' : undefined) }],
          onRepeatedHeartbeatFailure: () => {
            repeated++;
            closeAllConnections(heartbeat);
          },
        },
      );
      await r.start();
      await clock.whenPending(2);
      const opened = relay.connections();
      relay.freeze();
      flip = true;
      updates.length = 0;
      // Two tries of 5 s each hang before the connections are closed.
      await clock.advanceAsync(10_000, () => clock.whenPending(2, 90_000));
      expect(updates).toHaveLength(1);
      expect(repeated).toBeGreaterThan(0);
      expect(relay.connections()).toBeGreaterThan(opened);
      const node = await tls.kubeConfig().makeApiClient(CoreV1Api).readNode({ name: 'node-a' });
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    } finally {
      await Promise.all(reporters.splice(0).map((x) => x.stop()));
      relay.server.close();
      await tls.close();
    }
  });

  it('sets the OS and architecture labels again when someone removed them', async () => {
    const { r } = reporter();
    await r.start();
    await clock.whenPending(2);
    await core.patchNode(
      { name: 'node-a', body: [{ op: 'remove', path: '/metadata/labels/kubernetes.io~1os' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await waitUntil(() => r.watchedNode?.metadata?.labels?.['kubernetes.io/os'] === undefined);
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    const node = await core.readNode({ name: 'node-a' });
    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe('node-a');
  });

  it('renews the Lease every 10 s (within ±10 %)', async () => {
    const { r } = reporter();
    await r.start();
    await clock.whenPending(2);
    const times = [renewMs(await readLease())];
    for (let i = 0; i < 6; i++) {
      await clock.advanceAsync(10_000, () => clock.whenPending(2));
      times.push(renewMs(await readLease()));
    }
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toHaveLength(6);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(9_000);
      expect(g).toBeLessThanOrEqual(11_000);
    }
    expect((await readLease()).metadata?.ownerReferences?.[0]?.kind).toBe('Node');
  });

  it("reads the machine once and only the root filesystem's size at later updates, as upstream's cached MachineInfo", async () => {
    const reads: string[] = [];
    let blocks = 1000;
    const machineSource: MachineSource = {
      readFile: async (path) => {
        reads.push(path);
        if (path === '/proc/meminfo') return 'MemTotal: 8000000 kB\n';
        if (path === '/sys/devices/system/cpu/online') return '0-1\n';
        throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      },
      statfs: async () => ({ blocks, bsize: 4096 }),
      kernelRelease: () => '6.1.0-test',
      arch: () => 'x64',
      hostname: () => 'node-a',
    };
    const { r, updates } = reporter({}, { machineInfo: undefined, machineSource });
    await r.start();
    await clock.whenPending(2);
    const firstReads = reads.length;
    expect(reads.filter((p) => p === '/proc/meminfo')).toHaveLength(1);
    blocks = 2000;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(reads).toHaveLength(firstReads);
    expect(updates).toHaveLength(2);
    const node = await core.readNode({ name: 'node-a' });
    expect(parseQuantity(node.status!.capacity!['ephemeral-storage']!)).toBe(2000 * 4096);
    expect(node.status!.capacity!.cpu).toBe('2');
  });

  it('patches status when something changed and otherwise every nodeStatusReportFrequency', async () => {
    let runtimeUp = true;
    const { r, updates } = reporter(
      {},
      {
        readyChecks: [
          { name: 'runtime', check: () => (runtimeUp ? undefined : 'container runtime is down') },
        ],
      },
    );
    await r.start();
    await clock.whenPending(2);
    expect(updates).toHaveLength(1);
    const t0 = clock.now();
    const readyCond = async () =>
      (await core.readNode({ name: 'node-a' })).status!.conditions!.find((c) => c.type === 'Ready')!;
    const before = await readyCond();

    await clock.advanceAsync(60_000, () => clock.whenPending(2));
    expect(updates).toHaveLength(1);

    runtimeUp = false;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(updates).toHaveLength(2);
    const down = await readyCond();
    expect(down).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime is down',
    });
    expect(new Date(down.lastTransitionTime!).getTime()).toBe(t0 + 70_000);
    expect(new Date(before.lastTransitionTime!).getTime()).toBe(t0);

    // Unchanged for a while: only the 5-minute report goes out.
    await clock.advanceAsync(290_000, () => clock.whenPending(2));
    expect(updates).toHaveLength(2);
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(updates).toHaveLength(3);
    const still = await readyCond();
    expect(new Date(still.lastTransitionTime!).getTime()).toBe(t0 + 70_000);
    expect(new Date(still.lastHeartbeatTime!).getTime()).toBe(t0 + 370_000);

    runtimeUp = true;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    const up = await readyCond();
    expect(up.status).toBe('True');
    expect(new Date(up.lastTransitionTime!).getTime()).toBe(t0 + 380_000);
  });

  it("repairs a Ready condition changed in the server's copy within one update period, and patches nothing when the copy matches", async () => {
    // Status patches and node GETs counted by the API server itself (a rule that never fires).
    const seen = { patches: 0, gets: 0 };
    server.faults.failNext(1, 500, {
      match: (method, path) => {
        if (path.startsWith('/api/v1/nodes/node-a/status') && method === 'PATCH') seen.patches++;
        if (path.startsWith('/api/v1/nodes/node-a') && !path.includes('/status') && method === 'GET')
          seen.gets++;
        return false;
      },
    });
    const { r, updates } = reporter();
    await r.start();
    await clock.whenPending(2);
    expect(seen.patches).toBe(1);
    const t0 = clock.now();
    const readyCond = async () =>
      (await core.readNode({ name: 'node-a' })).status!.conditions!.find((c) => c.type === 'Ready')!;

    // Nothing differs: six rounds compare with the node watch's copy (upstream's node lister:
    // no GET) and patch nothing.
    await waitUntil(() => r.watchedNode !== undefined);
    const getsBefore = seen.gets;
    await clock.advanceAsync(60_000, () => clock.whenPending(2));
    expect(seen.patches).toBe(1);
    expect(seen.gets - getsBefore).toBe(0);

    // What the node lifecycle controller writes when the kubelet stopped renewing.
    await core.patchNodeStatus(
      {
        name: 'node-a',
        body: {
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message: 'Kubelet stopped posting node status.',
                lastTransitionTime: new Date(t0 + 65_000),
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect((await readyCond()).status).toBe('Unknown');
    // The next round compares with the watch's copy, once the write has reached it.
    await waitUntil(() => r.watchedNode?.status?.conditions?.some((c) => c.status === 'Unknown'));
    const afterControllerWrite = seen.patches; // the test's own patch above counts too
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(seen.patches).toBe(afterControllerWrite + 1);
    expect(updates).toHaveLength(2);
    const ready = await readyCond();
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    // A flip back from Unknown is a transition, as upstream's setter sees it on the server's copy.
    expect(new Date(ready.lastTransitionTime!).getTime()).toBe(t0 + 70_000);

    // Repaired and unchanged again: no further patch until the report frequency.
    await clock.advanceAsync(60_000, () => clock.whenPending(2));
    expect(seen.patches).toBe(afterControllerWrite + 1);
  });

  it('repairs a capacity value another writer changed, comparing quantities by value', async () => {
    const seen = { patches: 0 };
    server.faults.failNext(1, 500, {
      match: (method, path) => {
        if (method === 'PATCH' && path.startsWith('/api/v1/nodes/node-a/status')) seen.patches++;
        return false;
      },
    });
    const { r } = reporter();
    await r.start();
    await clock.whenPending(2);
    const setCpu = (cpu: string) =>
      core.patchNodeStatus(
        { name: 'node-a', body: { status: { capacity: { cpu } } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    // The same amount printed differently (an API server's canonical form may differ): no patch.
    await setCpu('4000m');
    // Each round compares with the node watch's copy: the write must have reached it.
    await waitUntil(() => r.watchedNode?.status?.capacity?.cpu === '4000m');
    const afterOwnWrite = seen.patches;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(seen.patches).toBe(afterOwnWrite);
    // A different amount: put back within one round.
    await setCpu('2');
    await waitUntil(() => r.watchedNode?.status?.capacity?.cpu === '2');
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(seen.patches).toBe(afterOwnWrite + 2);
    expect((await core.readNode({ name: 'node-a' })).status?.capacity?.cpu).toBe('4');
  });

  it('survives an API outage and resumes heartbeats', async () => {
    const { r, errors } = reporter();
    await r.start();
    await clock.whenPending(2);
    const before = renewMs(await readLease());
    // Every request fails for a while: lease updates, re-reads and status patches.
    server.faults.failNext(40, 503);
    for (let i = 0; i < 6; i++) await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.includes('lease'))).toBe(true);
    server.faults.reset();
    await clock.advanceAsync(20_000, () => clock.whenPending(2));
    const after = await readLease();
    expect(renewMs(after)).toBeGreaterThan(before + 60_000);
    expect(r.latestLease?.spec?.renewTime).toBeDefined();
  });

  it('re-creates the Lease after it was deleted, owned by the Node', async () => {
    const { r } = reporter();
    await r.start();
    await clock.whenPending(2);
    const node = await core.readNode({ name: 'node-a' });
    await coordination.deleteNamespacedLease({ name: 'node-a', namespace: NODE_LEASE_NAMESPACE });
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    const lease = await readLease();
    expect(lease.spec?.holderIdentity).toBe('node-a');
    expect(lease.metadata?.ownerReferences?.[0]?.uid).toBe(node.metadata?.uid);
  });

  it('a Lease update that fails is tried again at once, and the tries after the first report a repeated heartbeat failure', async () => {
    let repeated = 0;
    const { r } = reporter({}, { onRepeatedHeartbeatFailure: () => repeated++ });
    await r.start();
    await clock.whenPending(2);
    const before = renewMs(await readLease());
    server.faults.failNext(3, 503, {
      match: (method, path) => method === 'PUT' && path.includes('/leases/'),
    });
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(repeated).toBe(2);
    expect(renewMs(await readLease())).toBe(before + 10_000);
  });

  it('retries registration with backoff while the API server refuses it', async () => {
    server.faults.failNext(3, 500, { match: (method, path) => method === 'POST' && path.includes('/nodes') });
    const { r, errors } = reporter();
    const started = r.start();
    const t0 = clock.now();
    for (let i = 0; i < 3; i++) {
      await clock.whenPending(1);
      await clock.advanceAsync(10_000, () => clock.whenPending(0));
    }
    await started;
    expect(errors.filter((e) => e === 'Unable to register node with API server')).toHaveLength(3);
    expect(r.registration).toBe('Created');
    expect(clock.now()).toBeGreaterThan(t0);
    expect((await core.readNode({ name: 'node-a' })).metadata?.name).toBe('node-a');
  });

  it('renews through a conflicting write to the Lease', async () => {
    const { r, errors } = reporter();
    await r.start();
    await clock.whenPending(2);
    const lease = await readLease();
    // Another writer bumps the resourceVersion behind our back.
    await coordination.replaceNamespacedLease({
      name: 'node-a',
      namespace: NODE_LEASE_NAMESPACE,
      body: { ...lease, metadata: { ...lease.metadata, labels: { touched: 'yes' } } },
    });
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    expect(errors).toContain('Failed to update lease');
    const after = await readLease();
    expect(renewMs(after)).toBe(renewMs(lease) + 10_000);
    expect(after.metadata?.labels?.touched).toBe('yes');
  });

  it("reports this host's real capacity, cross-checked with nproc, free and /proc", async () => {
    const r = new NodeStatusReporter({
      kubeConfig: server.kubeConfig(),
      config: { nodeName: 'real-host', rootDir: '/', evictionHard: {} },
      clock,
    });
    reporters.push(r);
    await r.start();
    await clock.whenPending(2);
    const node = await core.readNode({ name: 'real-host' });
    const cap = node.status!.capacity!;
    const info = await readMachineInfo({ rootDir: '/' });
    const nproc = Number(execFileSync('nproc', ['--all']).toString().trim());
    expect(parseQuantity(cap.cpu!)).toBe(info.numCores);
    expect(info.numCores).toBeLessThanOrEqual(nproc);
    const freeTotal = Number(/^Mem:\s+(\d+)/m.exec(execFileSync('free', ['-b']).toString())![1]);
    expect(parseQuantity(cap.memory!)).toBe(info.memoryCapacityBytes);
    expect(info.memoryCapacityBytes).toBeLessThanOrEqual(freeTotal);
    const hugeBytes = info.hugePages.reduce((sum, h) => sum + h.pageSizeBytes * h.count, 0);
    expect(parseQuantity(node.status!.allocatable!.memory!)).toBe(info.memoryCapacityBytes - hugeBytes);
    expect(node.status!.nodeInfo!.bootID).toBe(
      execFileSync('cat', ['/proc/sys/kernel/random/boot_id']).toString().trim(),
    );
    expect(node.status!.nodeInfo!.kernelVersion).toBe(execFileSync('uname', ['-r']).toString().trim());
  });

  it('leaves conditions owned by other components alone', async () => {
    let up = true;
    const { r } = reporter(
      {},
      { readyChecks: [{ name: 'cni', check: () => (up ? undefined : 'network not ready') }] },
    );
    await r.start();
    await clock.whenPending(2);
    const setNetwork = (status: string) =>
      core.patchNodeStatus(
        {
          name: 'node-a',
          body: {
            status: { conditions: [{ type: 'NetworkUnavailable', status, reason: 'RouteController' }] },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
    await setNetwork('True');
    up = false;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    await setNetwork('False');
    up = true;
    await clock.advanceAsync(10_000, () => clock.whenPending(2));
    const conditions = (await core.readNode({ name: 'node-a' })).status!.conditions!;
    expect(conditions.find((c) => c.type === 'NetworkUnavailable')).toMatchObject({
      status: 'False',
      reason: 'RouteController',
    });
    expect(conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

describe('status.volumesInUse', () => {
  it("reports the kubelet's volumes in use and clears the server's list when none are left", async () => {
    let inUse: string[] = ['kubernetes.io/csi/d.example.com^vol-2', 'kubernetes.io/csi/d.example.com^vol-1'];
    const { r } = reporter({}, { volumesInUse: () => inUse });
    expect(await r.syncStatus()).toBe(true);
    expect((await core.readNode({ name: 'node-a' })).status?.volumesInUse).toEqual([
      'kubernetes.io/csi/d.example.com^vol-1',
      'kubernetes.io/csi/d.example.com^vol-2',
    ]);
    inUse = [];
    expect(await r.syncStatus()).toBe(true);
    expect((await core.readNode({ name: 'node-a' })).status?.volumesInUse ?? []).toEqual([]);
    // Nothing left to change: no patch until the report interval.
    expect(await r.syncStatus()).toBe(false);
  });
});
