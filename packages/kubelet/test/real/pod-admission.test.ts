import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { runtimeStatusFromCri } from '@nodeagent/node-status';
import { runtimeStatusFields } from '@nodeagent/node-status/node-object';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { runtimeClassHandlerLookup } from '../../src/cri/runtime-class';
import {
  defaultKubeletMapping,
  UserNamespaceAllocator,
  userNamespaceMappingsFile,
} from '../../src/cri/user-namespaces';
import { Kubelet } from '../../src/kubelet';
import { waitFor } from './node-harness';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';
import { type ContainerdSeries, containerdSeries } from './runtime-series';

const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
let containerd: PrivateContainerd;
let series: ContainerdSeries;
let client: CriClient;
let kubelet: Kubelet;
let dir: string;
let busybox: string;
const events: { uid: string; reason: string; message: string }[] = [];

let podCount = 0;
function pod(spec: Partial<Pod['spec']> = {}): Pod {
  podCount++;
  return {
    metadata: { name: `adm-${podCount}`, namespace: 'default', uid: `adm-${run}-${podCount}` },
    spec: {
      containers: [{ name: 'app', image: busybox, command: ['sleep', '3600'] }],
      terminationGracePeriodSeconds: 1,
      ...spec,
    },
  };
}

function sysctls(entries: Record<string, string>): Partial<Pod['spec']> {
  return { securityContext: { sysctls: Object.entries(entries).map(([name, value]) => ({ name, value })) } };
}

/** Starts the pod and returns its running container's id. */
async function running(p: Pod, timeoutMs = 60_000): Promise<string> {
  kubelet.addPod(p);
  const status = await waitFor(
    'Running',
    () => {
      const s = kubelet.getPodStatus(p.metadata.uid!);
      if (s?.phase === 'Failed') throw new Error(`pod failed: ${s.reason}: ${s.message}`);
      return s?.phase === 'Running' && s.containerStatuses?.[0]?.state.running ? s : undefined;
    },
    timeoutMs,
  );
  return status.containerStatuses![0]!.containerID!.replace('containerd://', '');
}

/** Adds the pod and waits for its terminal status. */
async function refused(p: Pod): Promise<PodStatus> {
  kubelet.addPod(p);
  return waitFor(
    'Failed',
    () => {
      const s = kubelet.getPodStatus(p.metadata.uid!);
      return s?.phase === 'Failed' ? s : undefined;
    },
    60_000,
  );
}

async function exec(id: string, script: string): Promise<string> {
  const result = await criPodRuntime(client).execSync(id, ['sh', '-c', script], 20);
  expect(result.exitCode, result.stderr.toString()).toBe(0);
  return result.stdout.toString().trim();
}

/** The containerd sandboxes of one pod uid (none for a pod refused at admission). */
async function sandboxesOf(p: Pod) {
  const { items } = await client.listPodSandbox({
    filter: { labelSelector: { 'io.kubernetes.pod.uid': p.metadata.uid! } },
  });
  return items;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-adm-${run}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  series = await containerdSeries(client);
  kubelet = new Kubelet({
    node: {
      name: 'node-adm',
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.72.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
      allowedUnsafeSysctls: ['kernel.msg*'],
    }).config,
    pacing: {
      relistPeriodMs: 200,
      retryMs: 500,
    },
    api: {
      recordEvent: (p, _type, reason, message) => events.push({ uid: p.metadata.uid!, reason, message }),
      // RuntimeClass runc (handler runc, containerd's default runtime) as the fidelity fixture's.
      runtimeHandler: runtimeClassHandlerLookup(async (name) =>
        name === 'runc' ? { handler: 'runc' } : undefined,
      ),
    },
    // Upstream's kubelet always has its user namespace manager; on a host without a `kubelet`
    // account in /etc/subuid (this one) it hands out blocks from 65536 up (defaultKubeletMapping).
    userNamespaces: await UserNamespaceAllocator.create({
      kubeletMapping: defaultKubeletMapping,
      maxPods: 110,
      podsDir: join(dir, 'root', 'pods'),
    }),
  });
  await kubelet.start();
}, 120_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets: [kubelet], client, containerd, dir });
}, 120_000);

describe('pod admission and namespaces on a real containerd', () => {
  it('applies safe sysctls (net and ipc namespace) and an allowlisted unsafe one inside the pod', {
    timeout: 120_000,
  }, async () => {
    const host = {
      port: (await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).trim(),
      msgmax: (await readFile('/proc/sys/kernel/msgmax', 'utf8')).trim(),
    };
    const id = await running(
      pod(
        sysctls({
          'net.ipv4.ip_unprivileged_port_start': '123',
          'kernel.shm_rmid_forced': '1',
          'kernel.msgmax': '12345',
        }),
      ),
    );
    expect(
      await exec(
        id,
        'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced /proc/sys/kernel/msgmax',
      ),
    ).toBe('123\n1\n12345');
    // The pod's namespaces only: the host keeps its values.
    expect((await readFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')).trim()).toBe(host.port);
    expect((await readFile('/proc/sys/kernel/msgmax', 'utf8')).trim()).toBe(host.msgmax);
  });

  it('refuses an unsafe sysctl that is not allowlisted: Failed, SysctlForbidden, exact message, no sandbox', {
    timeout: 120_000,
  }, async () => {
    const p = pod(sysctls({ 'net.ipv4.tcp_syncookies': '1', 'kernel.shmmax': '1048576' }));
    const status = await refused(p);
    expect(status).toMatchObject({
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "kernel.shmmax" not allowlisted',
    });
    expect(events).toContainEqual({
      uid: p.metadata.uid,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.shmmax" not allowlisted',
    });
    // Give the kubelet a few relists: nothing is ever created for it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sandboxesOf(p)).toEqual([]);
  });

  it('refuses a net sysctl in a hostNetwork pod: SysctlForbidden, no sandbox', {
    timeout: 120_000,
  }, async () => {
    const hostNet = pod({ hostNetwork: true, ...sysctls({ 'net.ipv4.ip_unprivileged_port_start': '1' }) });
    expect(await refused(hostNet)).toMatchObject({
      reason: 'SysctlForbidden',
      message:
        'Pod was rejected: forbidden sysctl: "net.ipv4.ip_unprivileged_port_start" not allowed with host net enabled',
    });
    // Give the kubelet a few relists: nothing is ever created for it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await sandboxesOf(hostNet)).toEqual([]);
  });

  it("hostUsers: false: the sandbox fails with upstream's message on 1.6 (and on 2.1 with runc 1.1); on 2.1 with runc 1.3 the pod runs in its own user namespace", {
    timeout: 240_000,
  }, async () => {
    // User namespaces need a runc that idmaps mounts: containerd 2.1 runs unstable's runc 1.3 by
    // default (tools/containerd), NODEAGENT_RUNC=1.1 gives it stable's 1.1, which cannot. 1.6
    // lists no runtime handlers at all.
    const supported = series === '2.1' && containerd.runc === '1.3';
    const reply = await client.status({ verbose: false });
    const { runtimeHandlers } = reply;
    if (series === '1.6') expect(runtimeHandlers).toEqual([]);
    else expect(runtimeHandlers.find((h) => h.name === '')?.features?.userNamespaces).toBe(supported);
    // The Node's status.runtimeHandlers and status.features from this reply: neither on 1.6 (as
    // upstream's recording, fidelity/pod-status-v1.36/node.upstream.yaml), both on 2.1.
    const nodeFields = runtimeStatusFields(runtimeStatusFromCri(reply));
    if (series === '1.6') expect(nodeFields).toEqual({});
    else
      expect(nodeFields).toMatchObject({
        runtimeHandlers: expect.arrayContaining([
          { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: supported } },
        ]),
        features: { supplementalGroupsPolicy: true },
      });
    const userns = pod({ hostUsers: false });
    if (supported) {
      // As upstream v1.36 on a runtime with user namespaces (its e2e "When creating a pod with
      // HostUsers"): admitted, run, root inside is the first ID of the pod's block on the host.
      // Generous: on a loaded 2-core machine a first user-namespaced sandbox took 44 s.
      const id = await running(userns, 120_000);
      const file = JSON.parse(
        await readFile(join(dir, 'root', 'pods', userns.metadata.uid!, userNamespaceMappingsFile), 'utf8'),
      ) as { uidMappings: { hostId: number }[] };
      const hostId = file.uidMappings[0]!.hostId;
      expect(hostId).toBeGreaterThanOrEqual(defaultKubeletMapping.firstId);
      const mapLine = `0 ${hostId} 65536`;
      expect(
        (await exec(id, 'cat /proc/self/uid_map /proc/self/gid_map'))
          .split('\n')
          .map((l) => l.trim().split(/\s+/).join(' ')),
      ).toEqual([mapLine, mapLine]);
      expect(events.filter((e) => e.uid === userns.metadata.uid && e.reason.startsWith('Failed'))).toEqual(
        [],
      );
      expect(await sandboxesOf(userns)).toHaveLength(1);
      return;
    }
    // Upstream's userns manager gives the same refusal on 1.6 and on 2.1 with runc 1.1
    // (fidelity/pod-status-v1.36, hostusers-false, recorded on 1.6): the pod is admitted, its
    // sandbox fails (FailedCreatePodSandBox) and it stays Pending.
    kubelet.addPod(userns);
    // The event comes during the sync, the status at its end: wait for both.
    const status = await waitFor(
      'FailedCreatePodSandBox and a status',
      () =>
        events.some((e) => e.uid === userns.metadata.uid && e.reason === 'FailedCreatePodSandBox')
          ? kubelet.getPodStatus(userns.metadata.uid!)
          : undefined,
      60_000,
    );
    expect(events).toContainEqual({
      uid: userns.metadata.uid,
      reason: 'FailedCreatePodSandBox',
      message:
        "Failed to create pod sandbox: can't set `spec.hostUsers: false`, runtime does not support user namespaces",
    });
    expect(status.phase).toBe('Pending');
    expect(status.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(await sandboxesOf(userns)).toEqual([]);
  });

  it("supplementalGroupsPolicy and the container user: Strict refused on 1.6, run on 2.1; the runtime's user in the status on 2.1 only", {
    timeout: 120_000,
  }, async () => {
    const identity = { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] };
    const userOf = (id: string, p: Pod) =>
      kubelet.getPodStatus(p.metadata.uid!)?.containerStatuses?.find((c) => c.containerID?.endsWith(id))
        ?.user;
    // Merge (the default): the image's /etc/group adds no group for gid 3000 in busybox.
    const merge = pod({ securityContext: identity });
    const mergeId = await running(merge);
    expect(await exec(mergeId, 'id -u; id -g; id -G')).toBe('1000\n3000\n3000 4000');
    const strict = pod({ securityContext: { ...identity, supplementalGroupsPolicy: 'Strict' } });
    if (series === '1.6') {
      // 1.6 reports no supplemental_groups_policy feature and no ContainerStatus.user.
      expect(userOf(mergeId, merge)).toBeUndefined();
      expect(await refused(strict)).toMatchObject({
        reason: 'SupplementalGroupsPolicyNotSupported',
        message: 'Pod was rejected: SupplementalGroupsPolicy=Strict is not supported in this node',
      });
      return;
    }
    const user = { linux: { uid: 1000, gid: 3000, supplementalGroups: [3000, 4000] } };
    expect(userOf(mergeId, merge)).toEqual(user);
    const strictId = await running(strict);
    expect(await exec(strictId, 'id -G')).toBe('3000 4000');
    expect(userOf(strictId, strict)).toEqual(user);
  });

  it('runs seLinuxOptions on a host without SELinux and runtimeClassName runc through its handler, as upstream', {
    timeout: 120_000,
  }, async () => {
    const labelled = pod({ securityContext: { seLinuxOptions: { level: 's0:c0,c1' } } });
    await running(labelled);
    const classed = pod({ runtimeClassName: 'runc' });
    await running(classed);
    const [sandbox] = await sandboxesOf(classed);
    expect(sandbox?.runtimeHandler).toBe('runc');
    expect(
      events
        .filter((e) => e.uid === labelled.metadata.uid || e.uid === classed.metadata.uid)
        .map((e) => e.reason),
    ).not.toContain('FailedCreatePodSandBox');
  });

  it('shares the sandbox PID namespace with shareProcessNamespace: PID 1 is the pause process', {
    timeout: 120_000,
  }, async () => {
    const shared = await running(pod({ shareProcessNamespace: true }));
    // The local pause image runs busybox sleep 2147483647 as PID 1.
    expect(await exec(shared, "tr '\\0' ' ' < /proc/1/cmdline")).toBe('/bin/sleep 2147483647');
    const own = await running(pod());
    expect(await exec(own, "tr '\\0' ' ' < /proc/1/cmdline")).toBe('sleep 3600');
  });

  it('joins the host PID, IPC and network namespaces only when asked', { timeout: 120_000 }, async () => {
    const nsOf = async (id: string) =>
      (await exec(id, 'for ns in pid ipc net; do readlink /proc/self/ns/$ns; done')).split('\n');
    const hostPid = await readlink('/proc/self/ns/pid');
    const hostIpc = await readlink('/proc/self/ns/ipc');
    // The "host" network of this containerd is the namespace it runs in.
    const nodeNet = `net:[${(await stat(containerd.netnsPath)).ino}]`;
    const host = await running(pod({ hostPID: true, hostIPC: true, hostNetwork: true }));
    expect(await nsOf(host)).toEqual([hostPid, hostIpc, nodeNet]);
    expect(await exec(host, "tr '\\0' ' ' < /proc/1/cmdline")).toBe(
      (await readFile('/proc/1/cmdline', 'utf8')).replaceAll('\0', ' ').trim(),
    );
    const isolated = await nsOf(await running(pod()));
    expect(isolated[0]).not.toBe(hostPid);
    expect(isolated[1]).not.toBe(hostIpc);
    expect(isolated[2]).not.toBe(nodeNet);
  });
});
