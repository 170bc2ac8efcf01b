import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { defaultKubeletConfiguration } from '../src/config/kubelet-configuration';
import { CpuManager } from '../src/cpumanager/cpu-manager';
import { cpuManagerMetrics } from '../src/cpumanager/cpu-manager-metrics';
import { CpuSet } from '../src/cpumanager/cpu-set';
import { type CpuInfo, CpuTopology } from '../src/cpumanager/cpu-topology';
import { memoryManagerFromConfig } from '../src/memorymanager/memory-manager-config';
import { memoryManagerMetrics } from '../src/memorymanager/memory-manager-metrics';
import { NumaMask } from '../src/topologymanager/numa-mask';
import type { ResourceHints } from '../src/topologymanager/topology-hint';
import { type HintProvider, TopologyManager } from '../src/topologymanager/topology-manager';
import {
  alignedComputeResourcesMetrics,
  topologyManagerMetrics,
} from '../src/topologymanager/topology-manager-metrics';

// Upstream v1.36's resource manager series (pkg/kubelet/metrics), driven through the real managers.

let dir: string;
const made: CpuManager[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-rmmetrics-${process.pid}-`));
});
afterEach(async () => {
  for (const m of made.splice(0)) m.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The value of one sample line of a text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const container = (name: string, cpu: string, memory = '64Mi', guaranteed = true): Container => ({
  name,
  resources: guaranteed ? { requests: { cpu, memory }, limits: { cpu, memory } } : { requests: { cpu } },
});
const pod = (uid: string, ...containers: Container[]): Pod => ({
  metadata: { uid, name: uid, namespace: 'default' },
  spec: { containers },
});

/** Two NUMA nodes of `cores` cores with `threads` hyper-threads; core c of node n holds CPUs c, c + 2·cores, …. */
function twoNodeTopology(cores: number, threads: number): CpuTopology {
  const details = new Map<number, CpuInfo>();
  const total = 2 * cores;
  for (let t = 0; t < threads; t++)
    for (let c = 0; c < total; c++)
      details.set(t * total + c, { socketId: 0, coreId: c, numaNodeId: c < cores ? 0 : 1 });
  return new CpuTopology(details);
}

/** A started static CPU manager (one CPU reserved) behind a topology manager of `policyName`. */
function staticCpus(
  registry: Registry,
  options: { threads?: number; policyOptions?: Record<string, string> } = {},
) {
  const aligned = alignedComputeResourcesMetrics(registry);
  const cpus = new CpuManager({
    policyName: 'static',
    policyOptions: options.policyOptions ?? {},
    reconcilePeriodMs: 10_000,
    reservedSystemCpus: new CpuSet(),
    reservedCpuMilli: (options.threads ?? 1) * 1000,
    optionGates: { alpha: false, beta: true },
    rootDir: dir,
    topology: twoNodeTopology(4, options.threads ?? 1),
    metrics: cpuManagerMetrics(registry, aligned),
  });
  made.push(cpus);
  let active: Pod[] = [];
  cpus.start({ activePods: () => active, containers: () => [], updateCpuset: async () => {} });
  cpus.markSourcesReady();
  const topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
    metrics: topologyManagerMetrics(registry, aligned),
  });
  topology.addHintProvider(cpus);
  const admit = (p: Pod) => {
    active = [...active.filter((a) => a.metadata.uid !== p.metadata.uid), p];
    return topology.admit({ pod: p, otherPods: [] });
  };
  const remove = (uid: string) => {
    active = active.filter((a) => a.metadata.uid !== uid);
    cpus.removeStaleState();
  };
  return { cpus, admit, remove };
}

describe('CPU manager metrics (static policy)', () => {
  it('HELP, TYPE and the start values: the shared pool without the reserved CPU, nothing exclusive', async () => {
    const registry = new Registry();
    staticCpus(registry);
    const text = await registry.metrics();
    for (const [name, type, help] of [
      [
        'kubelet_cpu_manager_pinning_requests_total',
        'counter',
        'The number of cpu core allocations which required pinning.',
      ],
      [
        'kubelet_cpu_manager_pinning_errors_total',
        'counter',
        'The number of cpu core allocations which required pinning failed.',
      ],
      [
        'kubelet_cpu_manager_shared_pool_size_millicores',
        'gauge',
        'The size of the shared CPU pool for non-guaranteed QoS pods, in millicores.',
      ],
      [
        'kubelet_cpu_manager_exclusive_cpu_allocation_count',
        'gauge',
        'The total number of CPUs exclusively allocated to containers running on this node',
      ],
      ['kubelet_cpu_manager_allocation_per_numa', 'gauge', 'Number of CPUs allocated per NUMA node'],
      [
        'kubelet_container_aligned_compute_resources_count',
        'counter',
        'Cumulative number of aligned compute resources allocated to containers by alignment type.',
      ],
      [
        'kubelet_container_aligned_compute_resources_failure_count',
        'counter',
        'Cumulative number of failures to allocate aligned compute resources to containers by alignment type.',
      ],
    ]) {
      expect(text).toContain(`# HELP ${name} [ALPHA] ${help}\n# TYPE ${name} ${type}\n`);
    }
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(0);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(7000);
    expect(sample(text, 'kubelet_cpu_manager_exclusive_cpu_allocation_count')).toBe(0);
    expect(text).not.toContain('kubelet_cpu_manager_allocation_per_numa{');
    // Upstream's initializeMetrics: the physical_cpu series exist at 0 whatever the options.
    const physical = '{boundary="physical_cpu",scope="container"}';
    expect(sample(text, `kubelet_container_aligned_compute_resources_count${physical}`)).toBe(0);
    expect(sample(text, `kubelet_container_aligned_compute_resources_failure_count${physical}`)).toBe(0);
  });

  it('counts a request only for a container that gets exclusive CPUs, an error when it fails; gauges follow allocate and release', async () => {
    const registry = new Registry();
    const { admit, remove } = staticCpus(registry);
    // Shared-pool containers: not Guaranteed, or a fractional request.
    expect(admit(pod('burstable', container('c', '2', '64Mi', false))).admit).toBe(true);
    expect(admit(pod('fraction', container('c', '1500m'))).admit).toBe(true);
    let text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(0);

    expect(admit(pod('a', container('c', '3'))).admit).toBe(true);
    text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(1);
    expect(sample(text, 'kubelet_cpu_manager_pinning_errors_total')).toBe(0);
    expect(sample(text, 'kubelet_cpu_manager_exclusive_cpu_allocation_count')).toBe(3);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(4000);
    expect(sample(text, 'kubelet_cpu_manager_allocation_per_numa{numa_node="0"}')).toBe(3);

    expect(admit(pod('b', container('c', '3'))).admit).toBe(true);
    // More than the 1 CPU left: a request and an error.
    expect(admit(pod('big', container('c', '2'))).admit).toBe(false);
    text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(3);
    expect(sample(text, 'kubelet_cpu_manager_pinning_errors_total')).toBe(1);
    expect(sample(text, 'kubelet_cpu_manager_exclusive_cpu_allocation_count')).toBe(6);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(1000);
    expect(sample(text, 'kubelet_cpu_manager_allocation_per_numa{numa_node="1"}')).toBe(3);
    // Without full-pcpus-only nothing counts as physical_cpu aligned.
    expect(
      sample(
        text,
        'kubelet_container_aligned_compute_resources_count{boundary="physical_cpu",scope="container"}',
      ),
    ).toBe(0);

    // A container that holds its CPUs already is a request again (upstream counts before that check).
    expect(admit(pod('a', container('c', '3'))).admit).toBe(true);
    text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(4);

    remove('a');
    text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_exclusive_cpu_allocation_count')).toBe(3);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(4000);
    expect(text).not.toContain('kubelet_cpu_manager_allocation_per_numa{numa_node="0"}');
    remove('b');
    text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_exclusive_cpu_allocation_count')).toBe(0);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(7000);
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(4);
  });

  it('full-pcpus-only: physical_cpu aligned on success, a failure on an SMT alignment error', async () => {
    const registry = new Registry();
    const { admit } = staticCpus(registry, { threads: 2, policyOptions: { 'full-pcpus-only': 'true' } });
    expect(admit(pod('odd', container('c', '3')))).toMatchObject({
      admit: false,
      reason: 'SMTAlignmentError',
    });
    expect(admit(pod('even', container('c', '4'))).admit).toBe(true);
    const text = await registry.metrics();
    const physical = '{boundary="physical_cpu",scope="container"}';
    expect(sample(text, `kubelet_container_aligned_compute_resources_count${physical}`)).toBe(1);
    expect(sample(text, `kubelet_container_aligned_compute_resources_failure_count${physical}`)).toBe(1);
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(2);
    expect(sample(text, 'kubelet_cpu_manager_pinning_errors_total')).toBe(1);
  });

  it('the none policy registers the series and never moves them', async () => {
    const registry = new Registry();
    const cpus = new CpuManager({
      policyName: 'none',
      policyOptions: {},
      reconcilePeriodMs: 10_000,
      reservedSystemCpus: new CpuSet(),
      reservedCpuMilli: 0,
      optionGates: { alpha: false, beta: true },
      rootDir: dir,
      metrics: cpuManagerMetrics(registry),
    });
    cpus.start({ activePods: () => [], containers: () => [], updateCpuset: async () => {} });
    cpus.allocate(pod('a', container('c', '2')), container('c', '2'), { affinity: null, preferred: false });
    const text = await registry.metrics();
    expect(sample(text, 'kubelet_cpu_manager_pinning_requests_total')).toBe(0);
    expect(sample(text, 'kubelet_cpu_manager_shared_pool_size_millicores')).toBe(0);
    expect(text).not.toContain('kubelet_container_aligned_compute_resources_count{');
  });
});

/** A hint provider whose hints and allocation the test sets. */
class FakeProvider implements HintProvider {
  hints: ResourceHints = undefined;
  fail: Error | undefined;
  getTopologyHints(): ResourceHints {
    return this.hints;
  }
  getPodTopologyHints(): ResourceHints {
    return this.hints;
  }
  allocate(): void {
    if (this.fail) throw this.fail;
  }
}

function topologyWith(registry: Registry, policyName: string, scopeName = 'container') {
  const provider = new FakeProvider();
  const manager = new TopologyManager({
    policyName,
    scopeName,
    policyOptions: {},
    numaNodes: () => [{ id: 0 }, { id: 1 }],
    metrics: topologyManagerMetrics(registry),
  });
  manager.addHintProvider(provider);
  const admit = () =>
    manager.admit({ pod: pod('p', container('a', '1'), container('b', '1')), otherPods: [] });
  return { provider, admit };
}

const onlyBothNodes: ResourceHints = { cpu: [{ affinity: new NumaMask([0, 1]), preferred: true }] };
const nodeZero: ResourceHints = { cpu: [{ affinity: new NumaMask([0]), preferred: true }] };

describe('topology manager metrics', () => {
  it('HELP, TYPE, buckets and the numa_node series a non-none policy creates at 0', async () => {
    const registry = new Registry();
    topologyWith(registry, 'single-numa-node');
    const text = await registry.metrics();
    expect(text).toContain(
      '# HELP kubelet_topology_manager_admission_requests_total [ALPHA] The number of admission requests where resources have to be aligned.\n# TYPE kubelet_topology_manager_admission_requests_total counter\n',
    );
    expect(text).toContain(
      '# HELP kubelet_topology_manager_admission_errors_total [ALPHA] The number of admission request failures where resources could not be aligned.\n# TYPE kubelet_topology_manager_admission_errors_total counter\n',
    );
    expect(text).toContain(
      '# HELP kubelet_topology_manager_admission_duration_ms [ALPHA] Duration in milliseconds to serve a pod admission request.\n# TYPE kubelet_topology_manager_admission_duration_ms histogram\n',
    );
    const buckets = [
      ...text.matchAll(/kubelet_topology_manager_admission_duration_ms_bucket\{le="([^"]+)"\}/g),
    ].map((m) => m[1]);
    expect(buckets).toEqual(
      '0.05 0.1 0.2 0.4 0.8 1.6 3.2 6.4 12.8 25.6 51.2 102.4 204.8 409.6 819.2 +Inf'.split(' '),
    );
    for (const scope of ['container', 'pod'])
      for (const name of ['count', 'failure_count'])
        expect(
          sample(
            text,
            `kubelet_container_aligned_compute_resources_${name}{boundary="numa_node",scope="${scope}"}`,
          ),
        ).toBe(0);
  });

  it('none: every admission a request, observed, an allocation failure not an error', async () => {
    const registry = new Registry();
    const { provider, admit } = topologyWith(registry, 'none');
    expect(admit().admit).toBe(true);
    provider.fail = new Error('boom');
    expect(admit().admit).toBe(false);
    const text = await registry.metrics();
    expect(sample(text, 'kubelet_topology_manager_admission_requests_total')).toBe(2);
    expect(sample(text, 'kubelet_topology_manager_admission_errors_total')).toBe(0);
    expect(sample(text, 'kubelet_topology_manager_admission_duration_ms_count')).toBe(2);
    expect(text).not.toContain('kubelet_container_aligned_compute_resources_count{');
  });

  it('single-numa-node, container scope: aligned per container, a refusal a failure and an error', async () => {
    const registry = new Registry();
    const { provider, admit } = topologyWith(registry, 'single-numa-node');
    provider.hints = nodeZero;
    expect(admit().admit).toBe(true);
    provider.hints = onlyBothNodes;
    expect(admit()).toMatchObject({ admit: false, reason: 'TopologyAffinityError' });
    provider.hints = nodeZero;
    provider.fail = new Error('boom');
    expect(admit().admit).toBe(false);
    const text = await registry.metrics();
    const container = '{boundary="numa_node",scope="container"}';
    expect(sample(text, 'kubelet_topology_manager_admission_requests_total')).toBe(3);
    expect(sample(text, 'kubelet_topology_manager_admission_errors_total')).toBe(2);
    expect(sample(text, `kubelet_container_aligned_compute_resources_count${container}`)).toBe(2);
    expect(sample(text, `kubelet_container_aligned_compute_resources_failure_count${container}`)).toBe(1);
    expect(sample(text, 'kubelet_topology_manager_admission_duration_ms_count')).toBe(3);
  });

  it('single-numa-node, pod scope: one aligned count per pod', async () => {
    const registry = new Registry();
    const { provider, admit } = topologyWith(registry, 'single-numa-node', 'pod');
    provider.hints = nodeZero;
    expect(admit().admit).toBe(true);
    provider.hints = onlyBothNodes;
    expect(admit().admit).toBe(false);
    const text = await registry.metrics();
    const podScope = '{boundary="numa_node",scope="pod"}';
    expect(sample(text, `kubelet_container_aligned_compute_resources_count${podScope}`)).toBe(1);
    expect(sample(text, `kubelet_container_aligned_compute_resources_failure_count${podScope}`)).toBe(1);
    expect(sample(text, 'kubelet_topology_manager_admission_errors_total')).toBe(1);
  });

  it('restricted: errors counted, nothing counted as aligned', async () => {
    const registry = new Registry();
    const { provider, admit } = topologyWith(registry, 'restricted');
    provider.hints = { cpu: [{ affinity: new NumaMask([0]), preferred: false }] };
    expect(admit().admit).toBe(false);
    provider.hints = nodeZero;
    expect(admit().admit).toBe(true);
    const text = await registry.metrics();
    expect(sample(text, 'kubelet_topology_manager_admission_errors_total')).toBe(1);
    expect(
      sample(
        text,
        'kubelet_container_aligned_compute_resources_count{boundary="numa_node",scope="container"}',
      ),
    ).toBe(0);
    expect(
      sample(
        text,
        'kubelet_container_aligned_compute_resources_failure_count{boundary="numa_node",scope="container"}',
      ),
    ).toBe(0);
  });
});

describe('memory manager metrics (Static policy)', () => {
  const Gi = 2 ** 30;
  function staticMemory(registry: Registry) {
    const manager = memoryManagerFromConfig(
      {
        ...defaultKubeletConfiguration(),
        memoryManagerPolicy: 'Static',
        kubeReserved: { memory: '1948Mi' },
        evictionHard: { 'memory.available': '100Mi' },
        reservedMemory: [
          { numaNode: 0, limits: { memory: '1Gi' } },
          { numaNode: 1, limits: { memory: '1Gi' } },
        ],
      },
      dir,
      {
        numaMemory: () => [0, 1].map((id) => ({ id, memoryBytes: 16 * Gi, hugePages: [] })),
        memoryCapacityBytes: () => 32 * Gi,
      },
      memoryManagerMetrics(registry),
    );
    manager.start({ activePods: () => [] });
    const topology = new TopologyManager({
      policyName: 'none',
      scopeName: 'container',
      policyOptions: {},
      numaNodes: () => [],
    });
    topology.addHintProvider(manager);
    return (p: Pod) => topology.admit({ pod: p, otherPods: [] });
  }

  it('HELP and TYPE; a request per Guaranteed container Allocate, an error when it fails', async () => {
    const registry = new Registry();
    const admit = staticMemory(registry);
    let text = await registry.metrics();
    expect(text).toContain(
      '# HELP kubelet_memory_manager_pinning_requests_total [ALPHA] The number of memory pages allocations which required pinning.\n# TYPE kubelet_memory_manager_pinning_requests_total counter\nkubelet_memory_manager_pinning_requests_total 0\n',
    );
    expect(text).toContain(
      '# HELP kubelet_memory_manager_pinning_errors_total [ALPHA] The number of memory pages allocations which required pinning that failed.\n# TYPE kubelet_memory_manager_pinning_errors_total counter\nkubelet_memory_manager_pinning_errors_total 0\n',
    );
    expect(admit(pod('burstable', container('c', '1', '1Gi', false))).admit).toBe(true);
    text = await registry.metrics();
    expect(sample(text, 'kubelet_memory_manager_pinning_requests_total')).toBe(0);

    const twoContainers = pod('g', container('a', '1', '1Gi'), container('b', '1', '1Gi'));
    expect(admit(twoContainers).admit).toBe(true);
    // Admitted again: each container already holds its blocks, and is counted again.
    expect(admit(twoContainers).admit).toBe(true);
    expect(admit(pod('huge', container('c', '1', '64Gi'))).admit).toBe(false);
    text = await registry.metrics();
    expect(sample(text, 'kubelet_memory_manager_pinning_requests_total')).toBe(5);
    expect(sample(text, 'kubelet_memory_manager_pinning_errors_total')).toBe(1);
  });
});
