import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { UserNamespaceAllocator, userNamespaceMappingsFile } from '../../src/cri/user-namespaces';
import { Kubelet } from '../../src/kubelet';
import { waitFor } from './node-harness';
import { type PrivateContainerd, tearDownKubeletNode } from './private-containerd';

// hostUsers: false as on a current node: containerd 2.1 with runc 1.3 (Debian unstable's, unpacked
// by tools/install-deps.mjs), whose `runc features` lists the user namespace and idmapped mounts.
// On 1.6 and on 2.1 with stable's runc 1.1 such a pod is refused (pod-admission.test.ts). What is
// asserted follows upstream's e2e (test/e2e/common/node/security_context.go, "When creating a pod
// with HostUsers"): root in the container is the pod's host ID, the range is the kubelet's, two pods
// get different ranges, and volume files are root's inside.

const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
/** A small kubelet range (110 pods), as upstream's e2e configures it, so a hit is not by chance. */
const idsPerPod = 65_536;
const kubeletMapping = { firstId: 1000 * idsPerPod, length: 110 * idsPerPod };
let containerd: PrivateContainerd;
let client: CriClient;
let kubelet: Kubelet;
let dir: string;
let busybox: string;
const events: { uid: string; reason: string; message: string }[] = [];

const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

let podCount = 0;
function usernsPod(): Pod {
  podCount++;
  return {
    metadata: { name: `userns-${podCount}`, namespace: 'default', uid: `userns-${run}-${podCount}` },
    spec: {
      hostUsers: false,
      containers: [
        {
          name: 'app',
          image: busybox,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      terminationGracePeriodSeconds: 1,
    },
  };
}

/** Starts the pod and returns its running container's id. */
async function running(p: Pod): Promise<string> {
  kubelet.addPod(p);
  const status = await waitFor(
    'Running',
    () => {
      const s = kubelet.getPodStatus(p.metadata.uid!);
      if (s?.phase === 'Failed') throw new Error(`pod failed: ${s.reason}: ${s.message}`);
      return s?.phase === 'Running' && s.containerStatuses?.[0]?.ready ? s : undefined;
    },
    // Generous: on a loaded 2-core machine a first user-namespaced sandbox took 44 s.
    120_000,
  );
  return status.containerStatuses![0]!.containerID!.replace('containerd://', '');
}

async function exec(id: string, script: string): Promise<string> {
  const result = await criPodRuntime(client).execSync(id, ['sh', '-c', script], 20);
  expect(result.exitCode, result.stderr.toString()).toBe(0);
  return result.stdout.toString().trim();
}

/** `/proc/self/{uid,gid}_map` lines as numbers: [containerId, hostId, length] per line. */
function idMap(text: string): number[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/).map(Number));
}

function podDir(p: Pod): string {
  return join(dir, 'root', 'pods', p.metadata.uid!);
}

async function mappingsFile(p: Pod) {
  return JSON.parse(await readFile(join(podDir(p), userNamespaceMappingsFile), 'utf8')) as {
    uidMappings: { hostId: number; containerId: number; length: number }[];
    gidMappings: { hostId: number; containerId: number; length: number }[];
  };
}

/** The host's view of a process: its real UID and GID from /proc/<pid>/status. */
async function hostIds(pid: number): Promise<{ uid: number; gid: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-userns-${run}-`));
  const mod = (await import(toolsContainerd)) as {
    startContainerd: (o: { version: '2.1'; runc: '1.3' }) => Promise<PrivateContainerd>;
  };
  containerd = await mod.startContainerd({ version: '2.1', runc: '1.3' });
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  const rootDir = join(dir, 'root');
  kubelet = new Kubelet({
    node: { name: 'node-userns', rootDir, hostIPs: ['192.168.72.3'], memoryCapacity: 2 * 1024 ** 3 },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    pacing: { relistPeriodMs: 200, retryMs: 500 },
    api: {
      recordEvent: (p, _type, reason, message) => events.push({ uid: p.metadata.uid!, reason, message }),
    },
    userNamespaces: await UserNamespaceAllocator.create({
      idsPerPod,
      kubeletMapping,
      maxPods: 110,
      podsDir: join(rootDir, 'pods'),
    }),
  });
  await kubelet.start();
}, 120_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets: [kubelet], client, containerd, dir });
}, 120_000);

describe('hostUsers: false on containerd 2.1 with runc 1.3', () => {
  it('the runtime offers user namespaces on its default handler', async () => {
    const { version } = await client.version().then((v) => ({ version: v.runtimeVersion }));
    expect(version).toMatch(/^v?2\.1\./);
    const { runtimeHandlers } = await client.status({ verbose: false });
    expect(runtimeHandlers.find((h) => h.name === '')?.features).toMatchObject({
      userNamespaces: true,
      recursiveReadOnlyMounts: true,
    });
  });

  it('runs the pod with the mapping of its userns file: uid_map inside, the host IDs of its root, Running and Ready', {
    timeout: 240_000,
  }, async () => {
    const p = usernsPod();
    const id = await running(p);
    const file = await mappingsFile(p);
    const [mapping] = file.uidMappings;
    expect(file.gidMappings).toEqual(file.uidMappings);
    expect(mapping).toMatchObject({ containerId: 0, length: idsPerPod });
    // Upstream's check: the host ID is inside the kubelet's range.
    expect(mapping!.hostId).toBeGreaterThanOrEqual(kubeletMapping.firstId);
    expect(mapping!.hostId + idsPerPod).toBeLessThanOrEqual(kubeletMapping.firstId + kubeletMapping.length);
    expect(idMap(await exec(id, 'cat /proc/self/uid_map'))).toEqual([[0, mapping!.hostId, idsPerPod]]);
    expect(idMap(await exec(id, 'cat /proc/self/gid_map'))).toEqual([[0, mapping!.hostId, idsPerPod]]);
    expect(await exec(id, 'id -u; id -g')).toBe('0\n0');
    // Root in the container is the pod's first host ID outside it.
    const reply = await client.containerStatus({ containerId: id, verbose: true });
    const pid = (JSON.parse(reply.info.info ?? '{}') as { pid: number }).pid;
    expect(await hostIds(pid)).toEqual({ uid: mapping!.hostId, gid: mapping!.hostId });
    const status = kubelet.getPodStatus(p.metadata.uid!)!;
    expect(status.phase).toBe('Running');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
    // The first sandbox worked: no FailedCreatePodSandBox (the refusal on runc 1.1) or other failure.
    expect(events.filter((e) => e.uid === p.metadata.uid && e.reason.startsWith('Failed'))).toEqual([]);
  });

  it('an emptyDir is idmapped: root inside writes it, the file is root-owned inside and on the host, not the pod host ID', {
    timeout: 240_000,
  }, async () => {
    const p = usernsPod();
    const id = await running(p);
    const { hostId } = (await mappingsFile(p)).uidMappings[0]!;
    expect(await exec(id, 'echo hi > /data/f && stat -c %u:%g /data /data/f && cat /data/f')).toBe(
      '0:0\n0:0\nhi',
    );
    // Without the idmapped mount the file would be the writer's host ID (hostId) on disk.
    const onHost = await stat(join(podDir(p), 'volumes', 'kubernetes.io~empty-dir', 'data', 'f'));
    expect({ uid: onHost.uid, gid: onHost.gid }).toEqual({ uid: 0, gid: 0 });
    expect(onHost.uid).not.toBe(hostId);
  });

  it('gives two pods different ranges and frees a removed pod’s range with its userns file', {
    timeout: 240_000,
  }, async () => {
    const a = usernsPod();
    const b = usernsPod();
    const [idA, idB] = [await running(a), await running(b)];
    const mapA = idMap(await exec(idA, 'cat /proc/self/uid_map'));
    const mapB = idMap(await exec(idB, 'cat /proc/self/uid_map'));
    expect(mapA[0]![1]).not.toBe(mapB[0]![1]);
    expect(mapA[0]![1]).toBe((await mappingsFile(a)).uidMappings[0]!.hostId);
    kubelet.removePod(a);
    await waitFor(
      'the userns file removed',
      () =>
        stat(join(podDir(a), userNamespaceMappingsFile)).then(
          () => undefined,
          () => true,
        ),
      60_000,
    );
  });
});
