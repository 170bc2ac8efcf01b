/**
 * The static CPU manager on a real containerd (1.6, or 2.1 with NODEAGENT_CONTAINERD=2.1) on
 * this 2-CPU machine with reservedSystemCPUs "0": a Guaranteed pod with 1 CPU gets CPU 1 to
 * itself, read back from its container's cgroup (cpuset.cpus), and a BestEffort pod created
 * after it runs on the shared pool, CPU 0 (upstream's e2e_node cpu_manager_test: "should assign
 * CPUs as expected based on the Pod spec").
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKubeletConfiguration } from '../../src/config/kubelet-configuration';
import type { CpuManager } from '../../src/cpumanager/cpu-manager';
import { cpuManagerAdmitHandler } from '../../src/cpumanager/cpu-manager-admit';
import { discoverCpuTopology } from '../../src/cpumanager/cpu-topology';
import { withContainerCpusets } from '../../src/cpumanager/cpuset-runtime';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import type { PodRuntime } from '../../src/cri/pod-runtime';
import {
  cpuManagerFromConfig,
  startResourceManagers,
  withReservedSystemCpus,
} from '../../src/resource-managers';
import { type NodeHarness, runtimeLookedUpPerCall, startNodeHarness, waitFor } from './node-harness';

let node: NodeHarness;
let manager: CpuManager | undefined;
/** The pods' runtime: plain until the CPU manager exists, then with each container's cpuset. */
let runtime: PodRuntime | undefined;

beforeAll(async () => {
  const topology = discoverCpuTopology();
  const config = withReservedSystemCpus(
    {
      ...defaultKubeletConfiguration(),
      cpuManagerPolicy: 'static',
      reservedSystemCPUs: '0',
      cpuManagerReconcilePeriod: '1s',
    },
    () => topology,
  );
  // The harness makes its CRI client and --root-dir itself: the pods' runtime and the admit
  // handler are looked up at each call, so the CPU manager can be built over them once they exist.
  const podRuntime = runtimeLookedUpPerCall(() => runtime);
  node = await startNodeHarness({
    criClient: (client) => {
      runtime = criPodRuntime(client);
      return client;
    },
    kubelet: {
      runtime: podRuntime,
      allocateResources: {
        admit: (attrs) => (manager ? cpuManagerAdmitHandler(manager).admit(attrs) : { admit: true }),
      },
    },
  });
  const rootDir = join(node.dir, 'root');
  manager = cpuManagerFromConfig(config, rootDir, topology);
  runtime = withContainerCpusets(runtime as PodRuntime, manager);
  // Started before any pod arrives, as the binary starts it before its pod sources.
  startResourceManagers(manager, node.kubelet, podRuntime, { rootDir });
}, 180_000);

afterAll(async () => {
  manager?.stop();
  await node?.stop();
}, 120_000);

const sleeper = (name: string, resources: object) => ({
  metadata: { name, namespace: 'default' },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'c', image: node.busybox, command: ['sleep', '3600'], resources }],
  },
});

/** The container's cpuset.cpus as its cgroup holds it (cgroup v1 mounts its own at /sys/fs/cgroup/cpuset). */
async function cgroupCpus(pod: string): Promise<string> {
  const read =
    'cat /sys/fs/cgroup/cpuset/cpuset.cpus 2>/dev/null || cat /sys/fs/cgroup/cpuset.cpus.effective';
  return (await node.exec(pod, 'c', ['sh', '-c', read])).trim();
}

/** The container's CFS quota: cpu.cfs_quota_us on cgroup v1, the first field of cpu.max on v2. */
async function cgroupQuota(pod: string): Promise<string> {
  const read = 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max';
  return (await node.exec(pod, 'c', ['sh', '-c', read])).trim();
}

describe('static CPU manager on containerd', () => {
  it('runs on a 2-CPU machine', () => {
    expect(cpus().length).toBe(2);
  });

  it('gives a Guaranteed pod with 1 CPU CPU 1 without a CFS quota, and a BestEffort pod the shared pool, CPU 0', async () => {
    const one = { cpu: '1', memory: '64Mi' };
    node.createPod(sleeper('guaranteed', { requests: one, limits: one }));
    await node.waitPod('guaranteed', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined));
    expect(await cgroupCpus('guaranteed')).toBe('1');
    // DisableCPUQuotaWithExclusiveCPUs (on by default): no quota for a container with its own CPUs.
    expect(await cgroupQuota('guaranteed')).toMatch(/^(-1|max)$/);
    node.createPod(sleeper('besteffort', {}));
    await node.waitPod('besteffort', 'Running', (p) => (p.status?.phase === 'Running' ? true : undefined));
    expect(await cgroupCpus('besteffort')).toBe('0');
    const uid = node.getPod('guaranteed')?.metadata.uid;
    expect(await readFile(join(node.dir, 'root', 'cpu_manager_state'), 'utf8')).toMatch(
      new RegExp(
        `^\\{"policyName":"static","defaultCpuSet":"0","entries":\\{"${uid}":\\{"c":"1"\\}\\},"checksum":\\d+\\}$`,
      ),
    );
  });

  it('gives CPU 1 back to the shared pool when the Guaranteed pod goes, and the reconcile loop widens the BestEffort container', async () => {
    node.deletePod('guaranteed', 0);
    // UpdateContainerResources with cpuset_cpus only, within a cpuManagerReconcilePeriod (1 s).
    await waitFor(
      'the BestEffort container on CPUs 0-1',
      async () => ((await cgroupCpus('besteffort')) === '0-1' ? true : undefined),
      30_000,
    );
    expect(await readFile(join(node.dir, 'root', 'cpu_manager_state'), 'utf8')).toMatch(
      /^\{"policyName":"static","defaultCpuSet":"0-1","checksum":\d+\}$/,
    );
  });
});
