import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { nextConditions } from '@nodeagent/node-status/node-object';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { type CgroupFilesystem, detectCgroupFilesystem } from '../../src/cgroups/cgroup-filesystem';
import { PodCgroupManager } from '../../src/cgroups/pod-cgroup-manager';
import {
  type KubeletConfigurationInput,
  parseKubeletConfiguration,
} from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { criImageService } from '../../src/images/image-service';
import { Kubelet } from '../../src/kubelet';
import { CriSummaryProvider } from '../../src/stats/summary-provider';
import { type KubeletOverrides, withOverrides } from '../helpers/kubelet-overrides';
import { waitFor as waitForWithin } from '../helpers/wait-for';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

/** waitFor with this file's 20 s hang guard. */
const waitFor = <T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
) => waitForWithin(what, probe, timeoutMs);

const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
// A cgroup root of its own, so this run's QoS hierarchy never meets anyone else's.
const cgroupRoot = `/na-cg-${run}`;
let containerd: PrivateContainerd;
let client: CriClient;
let dir: string;
let busybox: string;
let cgroupFs: CgroupFilesystem;
const kubelets: Kubelet[] = [];

function newKubelet(config: KubeletConfigurationInput, extra: KubeletOverrides = {}) {
  const kubelet = new Kubelet(
    withOverrides(
      {
        node: {
          name: 'node-real',
          rootDir: join(dir, 'root'),
          hostIPs: ['192.168.71.2'],
          memoryCapacity: 2 * 1024 ** 3,
        },
        runtime: criPodRuntime(client),
        config: parseKubeletConfiguration({
          podLogsDir: join(dir, 'logs'),
          volumePluginDir: join(dir, 'volume-plugins'),
          ...config,
        }).config,
        pacing: {
          relistPeriodMs: 200,
          retryMs: 500,
        },
      },
      extra,
    ),
  );
  kubelets.push(kubelet);
  return kubelet;
}

let podCount = 0;
function pod(spec: Partial<Pod['spec']>): Pod {
  podCount++;
  return {
    metadata: { name: `hk-${podCount}`, namespace: 'default', uid: `hk-${run}-${podCount}` },
    spec: {
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
      terminationGracePeriodSeconds: 2,
      ...spec,
    },
  };
}

async function runningContainerId(kubelet: Kubelet, p: Pod): Promise<string> {
  const status = await waitFor('Running', () => {
    const s = kubelet.getPodStatus(p.metadata.uid!);
    return s?.phase === 'Running' && s.containerStatuses?.[0]?.state.running ? s : undefined;
  });
  return status.containerStatuses![0]!.containerID!.replace('containerd://', '');
}

async function exec(id: string, script: string): Promise<string> {
  const result = await criPodRuntime(client).execSync(id, ['sh', '-c', script], 10);
  expect(result.exitCode, result.stderr.toString()).toBe(0);
  return result.stdout.toString().trim();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-hk-${run}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  cgroupFs = await detectCgroupFilesystem();
}, 120_000);

afterAll(async () => {
  for (const kubelet of kubelets) {
    for (const p of kubelet.getPods()) kubelet.removePod(p);
    await kubelet.settle().catch(() => undefined);
    await kubelet.stop();
  }
  client?.close();
  await containerd?.stop();
  await cgroupFs?.remove(cgroupRoot).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('kubelet housekeeping on a real containerd', () => {
  it('puts a pod in kubepods/burstable/pod<uid> with pids.max = podPidsLimit and removes the cgroup with the pod', async () => {
    const cgroups = new PodCgroupManager({
      fs: cgroupFs,
      cgroupDriver: 'cgroupfs',
      cgroupRoot,
      podPidsLimit: 64,
    });
    const kubelet = newKubelet({ cgroupRoot, podPidsLimit: 64 }, { cgroups });
    await kubelet.start();
    const p = pod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources: { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '64Mi' } },
        },
      ],
    });
    kubelet.addPod(p);
    const id = await runningContainerId(kubelet, p);
    const podPath = cgroups.podCgroupPath(p);
    expect(podPath).toBe(`${cgroupRoot}/kubepods/burstable/pod${p.metadata.uid}`);
    expect(await cgroupFs.read(podPath, 'pids.max')).toBe('64');
    // The container's own view: its pids (and memory) cgroup is a child of the pod cgroup.
    const ownCgroups = await exec(id, 'cat /proc/self/cgroup');
    const pidsLine = ownCgroups.split('\n').find((line) => /(^|:)pids:|^0::/.test(line));
    expect(pidsLine, ownCgroups).toContain(`${podPath}/`);
    // The limit applies inside: of 100 background sleeps only as many start as fit under 64 tasks.
    const burst = await criPodRuntime(client).execSync(
      id,
      ['sh', '-c', 'for i in $(seq 1 100); do sleep 30 >/dev/null 2>&1 & done; true'],
      10,
    );
    expect(burst.stderr.toString()).toMatch(/fork/i);
    // Saturated at the limit (the exec's own shell has exited since, freeing one slot).
    const current = Number(await cgroupFs.read(podPath, 'pids.current'));
    expect(current).toBeLessThanOrEqual(64);
    expect(current).toBeGreaterThanOrEqual(60);
    kubelet.removePod(p);
    await kubelet.settle();
    await waitFor('pod cgroup removed', async () => !(await cgroupFs.exists(podPath)));
  }, 60_000);

  it('makes fsGroup volumes group-owned, setgid and writable inside the container', async () => {
    const kubelet = newKubelet({});
    await kubelet.start();
    const p = pod({
      securityContext: { fsGroup: 2345, runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] },
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
    });
    kubelet.addPod(p);
    const id = await runningContainerId(kubelet, p);
    expect(await exec(id, 'stat -c "%g %a" /data')).toBe('2345 2777');
    const ids = await exec(id, 'id -u; id -g; id -G');
    const [uid, gid, groups] = ids.split('\n');
    expect(uid).toBe('1000');
    expect(gid).toBe('3000');
    expect(groups!.split(' ')).toEqual(expect.arrayContaining(['2345', '4000']));
    // A file the (non-root) container user creates inherits the volume's group.
    expect(await exec(id, 'echo hi > /data/f && stat -c "%u %g" /data/f')).toBe('1000 2345');
  }, 60_000);

  it('image GC never removes the sandbox image containerd 1.6 does not pin itself', async () => {
    const images = await criImageService(client).listImages();
    const pause = images.find((image) => image.repoTags.includes(containerd.images!.pause.name));
    expect(pause?.pinned).toBe(true);
    expect(images.find((image) => image.repoTags.includes(busybox))?.pinned).toBe(false);
  });

  it('evicts a pod under a memory threshold above what the node has: Failed/Evicted and MemoryPressure', async () => {
    const kubelet = newKubelet(
      { evictionHard: { 'memory.available': '1Pi' } },
      {
        stats: new CriSummaryProvider({
          nodeName: 'node-real',
          rootDir: join(dir, 'root'),
          podLogsDir: join(dir, 'logs'),
          cri: client,
        }),
        pacing: { evictionMonitoringPeriodMs: 300 },
      },
    );
    await kubelet.start();
    const besteffort = pod({});
    const burstable = pod({
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'sleep 3600'],
          resources: { requests: { memory: '1Mi' } },
        },
      ],
    });
    // The first eviction pass ran at start: the node is under memory pressure already.
    await waitFor('MemoryPressure', () => kubelet.housekeeping.pressure().memoryPressure);
    kubelet.addPod(besteffort);
    kubelet.addPod(burstable);
    const rejected = await waitFor('best-effort rejected', () => {
      const s = kubelet.getPodStatus(besteffort.metadata.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(rejected.reason).toBe('Evicted');
    expect(rejected.message).toBe('Pod was rejected: The node had condition: [MemoryPressure]. ');
    const evicted = await waitFor('burstable evicted', () => {
      const s = kubelet.getPodStatus(burstable.metadata.uid!);
      return s?.reason === 'Evicted' ? s : undefined;
    });
    expect(evicted.phase).toBe('Failed');
    expect(evicted.message).toMatch(
      /^The node was low on resource: memory\. Threshold quantity: 1Pi, available: \d+(Ki|Mi)?\. /,
    );
    // Its container was really stopped.
    await waitFor('container stopped', async () => {
      const { containers } = await client.listContainers({});
      return containers
        .filter((c) => c.labels['io.kubernetes.pod.uid'] === burstable.metadata.uid)
        .every((c) => c.state !== 1);
    });
    const conditions = nextConditions(
      undefined,
      { ready: true, ...kubelet.housekeeping.pressure() },
      new Date(),
    );
    expect(conditions.find((c) => c.type === 'MemoryPressure')).toMatchObject({
      status: 'True',
      reason: 'KubeletHasInsufficientMemory',
    });
  }, 60_000);
});
