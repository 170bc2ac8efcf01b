/**
 * CSI claims at scale (`npm run bench -- csi`): the nodeagent-kubelet single executable as its
 * own process, on a real containerd (tools/containerd), against the in-process API server over
 * HTTPS, with the project's FakeCsiPlugin registered through its plugins_registry (the driver's
 * volumes appear at the staging and publish paths as symlinks to their directories, which
 * containerd's bind mounts follow: nothing is mounted in the host's mount table). NA_CSI_PODS
 * pods (default 50), each with a claim of its own bound to a CSI PersistentVolume, are created at
 * once; recorded: create → every pod Ready, each pod's NodePublishVolume → its Ready (the
 * mount-to-Running time, p50/p90/max), the kubelet process's CPU seconds (user + system,
 * /proc/<pid>/stat) over the start and over the deletion of all of them, the calls the driver
 * got, and the FailedMount events posted on the way. The same pods with an emptyDir instead of a
 * claim run beside them as the baseline.
 * NA_CSI_BINARY measures that executable instead of building one. Needs root. Results:
 * bench-results/kubelet-csi.json.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, StorageV1Api, type V1Pod } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { Informer } from '@nodeagent/informer';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, processMemory, startApiServer } from '@nodeagent/testing';
import {
  type CsiVolumeMounter,
  type DriverRegistrar,
  FakeCsiPlugin,
  startDriverRegistrar,
} from '@nodeagent/testing/csi';
import { type Kubelet, startKubelet, stopKubelet } from './kubelet-process';

const { cpuSeconds, sleep } = processMemory;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PODS = Number(process.env.NA_CSI_PODS ?? 50);
const DRIVER = 'hostpath.csi.k8s.io';
const NODE = 'bench-csi';

type SeaBuild = { buildSea(o: { outDir: string; names: string[] }): Promise<{ path: string }[]> };
type Containerd = {
  startContainerd(): Promise<{
    endpoint: string;
    pid: number;
    images?: { busybox: { name: string } };
    stop(): Promise<void>;
  }>;
};

/** The fake driver's volumes as symlinks: containerd's bind mount follows them, the host's mount table stays as it is. */
const symlinkMounter: CsiVolumeMounter = {
  async bind(source, target) {
    await mkdir(dirname(target), { recursive: true });
    await rm(target, { recursive: true, force: true });
    await symlink(source, target);
  },
  async unbind(target) {
    await rm(target, { force: true });
  },
};

/** When each pod became Ready and when it was gone, as a watch on the API server sees it. */
class PodTimes {
  readonly ready = new Map<string, number>();
  readonly present = new Set<string>();
  private readonly informer: Informer<Wire<V1Pod>>;

  constructor(api: ApiServer) {
    this.informer = new Informer<Wire<V1Pod>>({
      kubeConfig: api.kubeConfig(),
      resource: { apiVersion: 'v1', plural: 'pods' },
    });
    const observe = (pod: Wire<V1Pod>) => {
      const name = pod.metadata?.name ?? '';
      this.present.add(name);
      if (
        !this.ready.has(name) &&
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
      )
        this.ready.set(name, performance.now());
    };
    this.informer.onAdd(observe);
    this.informer.onUpdate((_old, pod) => observe(pod));
    this.informer.onDelete((pod) => this.present.delete(pod.metadata?.name ?? ''));
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

async function until(test: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0);
};
const round = (n: number) => Number(n.toFixed(2));

function pod(name: string, busybox: string, claim: string | undefined): V1Pod {
  return {
    metadata: { name },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [
        claim
          ? { name: 'data', persistentVolumeClaim: { claimName: claim } }
          : { name: 'data', emptyDir: {} },
      ],
    },
  };
}

/** One round: PODS pods created at once, all Ready, then all deleted. */
async function runRound(
  api: ApiServer,
  times: PodTimes,
  kubelet: Kubelet,
  busybox: string,
  prefix: string,
  withClaims: boolean,
  publishedAt: Map<string, number>,
  cri: CriClient,
) {
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const pid = kubelet.child.pid as number;
  const names = Array.from({ length: PODS }, (_, i) => `${prefix}-${i}`);
  const cpu0 = await cpuSeconds(pid);
  const created = performance.now();
  await Promise.all(
    names.map((name, i) =>
      core.createNamespacedPod({
        namespace: 'default',
        body: pod(name, busybox, withClaims ? `claim-${i}` : undefined),
      }),
    ),
  );
  await until(() => names.every((n) => times.ready.has(n)), `${PODS} Ready pods`);
  const allReadyMs = Math.round(performance.now() - created);
  const startCpu = (await cpuSeconds(pid)) - cpu0;
  const readyAfterCreate = names.map((n) => (times.ready.get(n) as number) - created);
  const mountToRunning = withClaims
    ? names.map((n, i) => (times.ready.get(n) as number) - (publishedAt.get(`pv-${i}`) as number))
    : [];
  await sleep(5_000);
  const cpu1 = await cpuSeconds(pid);
  const deleteStart = performance.now();
  await Promise.all(names.map((name) => core.deleteNamespacedPod({ name, namespace: 'default' })));
  await until(() => names.every((n) => !times.present.has(n)), 'every pod deleted');
  const allGoneMs = Math.round(performance.now() - deleteStart);
  const deleteCpu = (await cpuSeconds(pid)) - cpu1;
  // The API objects go before the runtime's (no pod cgroups here): the next round starts on an
  // idle runtime, not one still removing this round's sandboxes.
  const runtimeBusy = async () => (await cri.listPodSandbox({})).items.length > 0;
  while (await runtimeBusy()) await sleep(200);
  const runtimeEmptyMs = Math.round(performance.now() - deleteStart);
  // A set-up that failed on the way (it would show as FailedMount on the pods).
  const events = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter(
    (e) => e.reason === 'FailedMount' && e.involvedObject.name?.startsWith(`${prefix}-`),
  );
  return {
    pods: PODS,
    allReadyMs,
    readyAfterCreateMs: {
      p50: percentile(readyAfterCreate, 0.5),
      p90: percentile(readyAfterCreate, 0.9),
      max: percentile(readyAfterCreate, 1),
    },
    ...(withClaims
      ? {
          mountToRunningMs: {
            p50: percentile(mountToRunning, 0.5),
            p90: percentile(mountToRunning, 0.9),
            max: percentile(mountToRunning, 1),
          },
        }
      : {}),
    kubeletCpuSecondsToAllReady: round(startCpu),
    allDeletedMs: allGoneMs,
    runtimeEmptyMs,
    kubeletCpuSecondsToAllDeleted: round(deleteCpu),
    failedMountEvents: events.reduce((n, e) => n + (e.count ?? 1), 0),
    failedMountMessages: [...new Set(events.map((e) => e.message ?? ''))].slice(0, 3),
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the kubelet CSI bench needs root (tools/containerd)');
  const dir = mkdtempSync(join(tmpdir(), `na-kubelet-csi-${process.pid}-`));
  const { startContainerd } = (await import(join(repoRoot, 'tools/containerd/containerd.ts'))) as Containerd;
  const containerd = await startContainerd();
  let api: ApiServer | undefined;
  let kubelet: Kubelet | undefined;
  let plugin: FakeCsiPlugin | undefined;
  let registrar: DriverRegistrar | undefined;
  let times: PodTimes | undefined;
  try {
    const busybox = containerd.images?.busybox.name;
    if (!busybox) throw new Error('tools/containerd imported no busybox image');
    let binary = process.env.NA_CSI_BINARY;
    if (!binary) {
      const { buildSea } = (await import(join(repoRoot, 'tools/sea/build.mjs'))) as SeaBuild;
      binary = (await buildSea({ outDir: join(dir, 'bin'), names: ['nodeagent-kubelet'] }))[0]
        ?.path as string;
    }
    api = await startApiServer({ tls: true, bookmarkIntervalMs: 60_000 });
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const storage = api.kubeConfig().makeApiClient(StorageV1Api);
    await storage.createCSIDriver({
      body: {
        metadata: { name: DRIVER },
        spec: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
      },
    });
    for (let i = 0; i < PODS; i++) {
      const claim = await core.createNamespacedPersistentVolumeClaim({
        namespace: 'default',
        body: {
          metadata: { name: `claim-${i}` },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: '1Mi' } },
            volumeName: `pv-${i}`,
          },
        },
      });
      await core.replaceNamespacedPersistentVolumeClaimStatus({
        name: `claim-${i}`,
        namespace: 'default',
        body: { ...claim, status: { phase: 'Bound' } },
      });
      await core.createPersistentVolume({
        body: {
          metadata: { name: `pv-${i}` },
          spec: {
            accessModes: ['ReadWriteOnce'],
            capacity: { storage: '1Mi' },
            claimRef: { namespace: 'default', name: `claim-${i}`, uid: claim.metadata?.uid },
            csi: { driver: DRIVER, volumeHandle: `vol-${i}` },
          },
        },
      });
    }
    times = new PodTimes(api);
    await times.start();
    kubelet = await startKubelet(binary, api, containerd.endpoint, NODE, { dir });
    const home = readdirSync(dir).find((d) => d.startsWith(`${NODE}-`)) as string;
    plugin = await FakeCsiPlugin.start({ driverName: DRIVER, nodeId: NODE, mounter: symlinkMounter });
    registrar = await startDriverRegistrar({
      registrationDir: join(dir, home, 'root', 'plugins_registry'),
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    await until(() => (registrar?.statuses.length ?? 0) > 0, 'the driver registered', 60_000);
    // When each volume was published (the driver's own record, looked at every 10 ms).
    const publishedAt = new Map<string, number>();
    let watching = true;
    const seen = new Set<string>();
    const watcher = (async () => {
      while (watching) {
        for (const target of plugin?.published.keys() ?? []) {
          if (seen.has(target)) continue;
          seen.add(target);
          const pv = target.split('/').at(-2) as string;
          if (!publishedAt.has(pv)) publishedAt.set(pv, performance.now());
        }
        await sleep(10);
      }
    })();
    const cri = await createCriClient({ endpoint: containerd.endpoint });
    const baseline = await runRound(api, times, kubelet, busybox, 'plain', false, publishedAt, cri);
    process.stderr.write(`baseline ${JSON.stringify(baseline)}\n`);
    const claims = await runRound(api, times, kubelet, busybox, 'claim', true, publishedAt, cri);
    cri.close();
    process.stderr.write(`claims ${JSON.stringify(claims)}\n`);
    watching = false;
    await watcher;
    await until(
      () => plugin?.staged.size === 0 && plugin.published.size === 0,
      'every volume unstaged',
      120_000,
    );
    const calls: Record<string, number> = {};
    for (const c of plugin.calls) {
      const rpc = c.method.split('/').at(-1) as string;
      calls[rpc] = (calls[rpc] ?? 0) + 1;
    }
    const out = {
      generatedAt: new Date().toISOString(),
      binary: process.env.NA_CSI_BINARY ?? 'nodeagent-kubelet single executable, built by this run',
      driver: 'FakeCsiPlugin (@nodeagent/testing/csi), volumes as symlinks',
      claims,
      emptyDirBaseline: baseline,
      driverCalls: calls,
    };
    mkdirSync(join(repoRoot, 'bench-results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench-results', 'kubelet-csi.json'), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await stopKubelet(kubelet);
    await registrar?.stop();
    await plugin?.stop();
    await times?.stop();
    await api?.close();
    await containerd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
