import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../src/api/pod-types';
import { defaultKubeletConfiguration } from '../src/config/kubelet-configuration';
import { CpuManager } from '../src/cpumanager/cpu-manager';
import { CpuSet } from '../src/cpumanager/cpu-set';
import { discoverCpuTopology } from '../src/cpumanager/cpu-topology';
import { ResourceManagerError } from '../src/cpumanager/resource-manager-error';
import { topologyManagerFromConfig } from '../src/resource-managers';
import { HintMerger } from '../src/topologymanager/hint-merger';
import { NumaInfo, type NumaNode, readNumaNodes } from '../src/topologymanager/numa-info';
import { everyNumaMask, NumaMask } from '../src/topologymanager/numa-mask';
import type { TopologyManager } from '../src/topologymanager/topology-manager';

let dir: string;
const made: CpuManager[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-topoman-${process.pid}-`));
});
afterEach(async () => {
  for (const m of made.splice(0)) m.stop();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A /sys of `nodes` NUMA nodes, each one socket of two cores of two hyper-threads: node n holds
 * CPUs 4n..4n+3, core (4n, 4n+1) and core (4n+2, 4n+3). Distances 10 to itself, 20 to others
 * unless `distances` is false (no distance files).
 */
async function fakeSysfs(nodes: number, distances = true): Promise<string> {
  const root = join(dir, 'sys');
  const cpuDir = join(root, 'devices/system/cpu');
  await mkdir(cpuDir, { recursive: true });
  await writeFile(join(cpuDir, 'online'), `0-${nodes * 4 - 1}\n`);
  for (let cpu = 0; cpu < nodes * 4; cpu++) {
    const topology = join(cpuDir, `cpu${cpu}`, 'topology');
    await mkdir(topology, { recursive: true });
    await writeFile(join(topology, 'physical_package_id'), `${Math.floor(cpu / 4)}\n`);
    await writeFile(join(topology, 'core_id'), `${Math.floor(cpu / 2) % 2}\n`);
  }
  for (let node = 0; node < nodes; node++) {
    const nodeDir = join(root, `devices/system/node/node${node}`);
    await mkdir(nodeDir, { recursive: true });
    await writeFile(join(nodeDir, 'cpulist'), `${node * 4}-${node * 4 + 3}\n`);
    const row = Array.from({ length: nodes }, (_, other) => (other === node ? 10 : 20));
    if (distances) await writeFile(join(nodeDir, 'distance'), `${row.join(' ')}\n`);
  }
  return root;
}

const container = (name: string, cpu: string): Container => ({
  name,
  resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } },
});
const pod = (uid: string, ...containers: Container[]): Pod => ({
  metadata: { uid, name: uid, namespace: 'default' },
  spec: { containers },
});

/**
 * A started static CPU manager (CPU 0 reserved) under a topology manager built from the
 * configuration's three fields, as the binary builds them.
 */
async function managers(
  policy: string,
  scope = 'container',
  nodes = 2,
): Promise<{ cpus: CpuManager; topology: TopologyManager }> {
  const sysfs = await fakeSysfs(nodes);
  const cpus = new CpuManager({
    policyName: 'static',
    policyOptions: {},
    reconcilePeriodMs: 10_000,
    reservedSystemCpus: new CpuSet([0]),
    reservedCpuMilli: 1000,
    optionGates: { alpha: false, beta: true },
    rootDir: dir,
    topology: discoverCpuTopology(sysfs),
    clock: new FakeClock(),
  });
  made.push(cpus);
  cpus.start({ activePods: () => [], containers: () => [], updateCpuset: async () => {} });
  const config = {
    ...defaultKubeletConfiguration(),
    topologyManagerPolicy: policy,
    topologyManagerScope: scope,
  } as ReturnType<typeof defaultKubeletConfiguration>;
  const topology = topologyManagerFromConfig(config, () => readNumaNodes(sysfs));
  topology.addHintProvider(cpus);
  return { cpus, topology };
}

const refused = {
  admit: false,
  reason: 'TopologyAffinityError',
  message: 'Resources cannot be allocated with Topology locality',
};

describe('NUMA masks (upstream bitmask)', () => {
  it('ranks by count, then as integers', () => {
    expect(new NumaMask([1]).isNarrowerThan(new NumaMask([0, 1]))).toBe(true);
    expect(new NumaMask([0]).isNarrowerThan(new NumaMask([1]))).toBe(true);
    expect(new NumaMask([1]).isNarrowerThan(new NumaMask([0]))).toBe(false);
    // 0b101 (5) < 0b110 (6): the highest differing node decides.
    expect(new NumaMask([0, 2]).isLessThan(new NumaMask([1, 2]))).toBe(true);
    expect(new NumaMask([1, 2]).isLessThan(new NumaMask([0, 2]))).toBe(false);
  });

  it('iterates every combination, singles first', () => {
    const seen: string[] = [];
    everyNumaMask([0, 1, 2], (mask) => seen.push(mask.toString()));
    expect(seen).toEqual(['[0]', '[1]', '[2]', '[0 1]', '[0 2]', '[1 2]', '[0 1 2]']);
  });
});

describe('hint merge', () => {
  const nodes = [
    { id: 0, distances: [10, 21, 11, 21] },
    { id: 1, distances: [21, 10, 21, 11] },
    { id: 2, distances: [11, 21, 10, 21] },
    { id: 3, distances: [21, 11, 21, 10] },
  ];
  const hints = [
    [
      { affinity: new NumaMask([0, 1]), preferred: true },
      { affinity: new NumaMask([0, 2]), preferred: true },
    ],
  ];

  it('takes the narrowest (lowest) of equally preferred masks, or with prefer-closest the closest', () => {
    expect(new HintMerger(new NumaInfo(nodes, false), hints, false).merge().affinity?.bits).toEqual([0, 1]);
    expect(new HintMerger(new NumaInfo(nodes, true), hints, true).merge().affinity?.bits).toEqual([0, 2]);
  });

  it('intersects one hint of each resource and prefers a preferred merge', () => {
    const merged = new HintMerger(
      new NumaInfo(nodes, false),
      [
        [
          { affinity: new NumaMask([0, 1]), preferred: false },
          { affinity: new NumaMask([2]), preferred: true },
        ],
        [{ affinity: null, preferred: true }],
      ],
      false,
    ).merge();
    expect(merged).toEqual({ affinity: new NumaMask([2]), preferred: true });
  });

  it('falls back to every node, not preferred, when no permutation shares a node', () => {
    const merged = new HintMerger(
      new NumaInfo(nodes, false),
      [
        [{ affinity: new NumaMask([0]), preferred: true }],
        [{ affinity: new NumaMask([1]), preferred: true }],
      ],
      false,
    ).merge();
    expect(merged).toEqual({ affinity: new NumaMask([0, 1, 2, 3]), preferred: false });
  });
});

describe('topology manager over the static CPU manager, 2 NUMA nodes (CPUs 0-3, 4-7; CPU 0 reserved)', () => {
  it('best-effort (container scope) puts a container on the one node that can hold it', async () => {
    const { cpus, topology } = await managers('best-effort');
    // Node 0 has only 3 free CPUs (0 is reserved): 4 CPUs fit on node 1 alone.
    expect(topology.admit({ pod: pod('a', container('c', '4')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('a', 'c')).toBe('4-7');
    expect(topology.admit({ pod: pod('b', container('c', '3')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('b', 'c')).toBe('1-3');
  });

  it("gives the static policy's hints: every node set with room, the narrowest preferred", async () => {
    const { cpus } = await managers('best-effort');
    const show = (hints: ReturnType<CpuManager['getTopologyHints']>) =>
      hints?.cpu?.map((hint) => `${hint.affinity}${hint.preferred ? ' preferred' : ''}`);
    const four = pod('a', container('c', '4'));
    expect(show(cpus.getTopologyHints(four, four.spec.containers[0]!))).toEqual(['[1] preferred', '[0 1]']);
    // 6 CPUs fit no single node (4 CPUs each), so both nodes are the narrowest possible.
    expect(show(cpus.getPodTopologyHints(pod('b', container('x', '2'), container('y', '4'))))).toEqual([
      '[0 1] preferred',
    ]);
    expect(cpus.getTopologyHints(pod('s', container('c', '1500m')), container('c', '1500m'))).toBeUndefined();
    // A container that holds CPUs already (a restart) gets the hints of those CPUs.
    cpus.allocate(four, four.spec.containers[0]!, { affinity: new NumaMask([1]), preferred: true });
    expect(show(cpus.getTopologyHints(four, four.spec.containers[0]!))).toEqual(['[1] preferred', '[0 1]']);
    const resized = pod('a', container('c', '2'));
    expect(cpus.getTopologyHints(resized, resized.spec.containers[0]!)).toEqual({ cpu: [] });
  });

  it('allocates on the affinity even where packing alone would choose another node', async () => {
    const { cpus } = await managers('best-effort');
    const two = pod('a', container('c', '2'));
    // Packing alone fills node 0 first (its socket has fewer free CPUs).
    cpus.allocate(two, two.spec.containers[0]!, { affinity: new NumaMask([1]), preferred: true });
    expect(cpus.cpuset('a', 'c')).toBe('4-5');
    const three = pod('b', container('c', '3'));
    // Without an affinity packing decides: the fuller socket 1's free core first, then CPU 1.
    cpus.allocate(three, three.spec.containers[0]!, { affinity: null, preferred: false });
    expect(cpus.cpuset('b', 'c')).toBe('1,6-7');
  });

  /** Pods of 2 CPUs on each node leave CPU 1 on node 0 and 6-7 on node 1: 3 CPUs only across nodes. */
  async function fragmented(policy: string) {
    const m = await managers(policy);
    expect(m.topology.admit({ pod: pod('x', container('c', '2')), otherPods: [] })).toEqual({ admit: true });
    expect(m.topology.admit({ pod: pod('y', container('c', '2')), otherPods: [] })).toEqual({ admit: true });
    expect([m.cpus.cpuset('x', 'c'), m.cpus.cpuset('y', 'c')]).toEqual(['2-3', '4-5']);
    return m;
  }

  it('best-effort admits a container no single node can hold, spread over both', async () => {
    const { cpus, topology } = await fragmented('best-effort');
    expect(topology.admit({ pod: pod('z', container('c', '3')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('z', 'c')).toBe('1,6-7');
  });

  it('restricted refuses it with TopologyAffinityError and allocates nothing', async () => {
    const { cpus, topology } = await fragmented('restricted');
    expect(topology.admit({ pod: pod('z', container('c', '3')), otherPods: [] })).toEqual(refused);
    expect(cpus.exclusiveCpus('z', 'c').isEmpty()).toBe(true);
    expect(await readFile(join(dir, 'cpu_manager_state'), 'utf8')).not.toContain('"z"');
  });

  it('single-numa-node refuses it too', async () => {
    const { topology } = await fragmented('single-numa-node');
    expect(topology.admit({ pod: pod('z', container('c', '3')), otherPods: [] })).toEqual(refused);
  });

  it('restricted admits a request larger than any node on both nodes (the narrowest possible); single-numa-node refuses it', async () => {
    const restricted = await managers('restricted');
    expect(restricted.topology.admit({ pod: pod('w', container('c', '6')), otherPods: [] })).toEqual({
      admit: true,
    });
    // Both nodes are the affinity: socket 1 whole, then the whole core 2-3 of node 0.
    expect(restricted.cpus.cpuset('w', 'c')).toBe('2-7');
    for (const m of made.splice(0)) m.stop();
    await rm(join(dir, 'cpu_manager_state'));
    const single = await managers('single-numa-node');
    expect(single.topology.admit({ pod: pod('w', container('c', '6')), otherPods: [] })).toEqual(refused);
  });

  it('container scope aligns each container on its own; pod scope puts the whole pod on one node', async () => {
    const twoContainers = () => pod('p', container('a', '2'), container('b', '2'));
    const byContainer = await managers('single-numa-node', 'container');
    expect(byContainer.topology.admit({ pod: twoContainers(), otherPods: [] })).toEqual({ admit: true });
    // a takes node 0 (the lower of two fitting nodes), b no longer fits there.
    expect([byContainer.cpus.cpuset('p', 'a'), byContainer.cpus.cpuset('p', 'b')]).toEqual(['2-3', '4-5']);
    for (const m of made.splice(0)) m.stop();
    await rm(join(dir, 'cpu_manager_state'));
    const byPod = await managers('single-numa-node', 'pod');
    expect(byPod.topology.admit({ pod: twoContainers(), otherPods: [] })).toEqual({ admit: true });
    expect([byPod.cpus.cpuset('p', 'a'), byPod.cpus.cpuset('p', 'b')]).toEqual(['4-5', '6-7']);
  });

  it('pod scope refuses a pod whose total fits no node under single-numa-node', async () => {
    const { cpus, topology } = await managers('single-numa-node', 'pod');
    const p = pod('p', container('a', '3'), container('b', '2'));
    expect(topology.admit({ pod: p, otherPods: [] })).toEqual(refused);
    expect(cpus.exclusiveCpus('p', 'a').isEmpty()).toBe(true);
  });

  it('a container without exclusive CPUs has no preference and is admitted under every policy', async () => {
    const { cpus, topology } = await managers('single-numa-node');
    expect(topology.admit({ pod: pod('s', container('c', '500m')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('s', 'c')).toBe('0-7');
  });

  it("none allocates as the CPU manager alone did, and refuses an allocation that fails with upstream's reason", async () => {
    const { cpus, topology } = await managers('none');
    expect(topology.admit({ pod: pod('a', container('c', '2')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('a', 'c')).toBe('2-3');
    expect(topology.admit({ pod: pod('b', container('c', '8')), otherPods: [] })).toEqual({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message:
        'Allocate failed due to not enough cpus available to satisfy request: requested=8, available=5, which is unexpected',
    });
  });
});

describe('topology manager on 1 NUMA node (CPUs 0-3; CPU 0 reserved)', () => {
  it('single-numa-node admits what fits and refuses what does not', async () => {
    const { cpus, topology } = await managers('single-numa-node', 'container', 1);
    expect(topology.admit({ pod: pod('a', container('c', '2')), otherPods: [] })).toEqual({ admit: true });
    expect(cpus.cpuset('a', 'c')).toBe('2-3');
    expect(topology.admit({ pod: pod('b', container('c', '2')), otherPods: [] })).toEqual(refused);
  });

  it('best-effort admits the same pod and the CPU manager refuses it', async () => {
    const { topology } = await managers('best-effort', 'pod', 1);
    expect(topology.admit({ pod: pod('a', container('c', '2')), otherPods: [] })).toEqual({ admit: true });
    expect(topology.admit({ pod: pod('b', container('c', '2')), otherPods: [] })).toMatchObject({
      admit: false,
      reason: 'UnexpectedAdmissionError',
    });
  });
});

describe("topology manager configuration, refused in upstream's words", () => {
  const build = (
    fields: Partial<ReturnType<typeof defaultKubeletConfiguration>>,
    nodes: () => readonly NumaNode[] = () => [{ id: 0, distances: [10] }],
  ) => topologyManagerFromConfig({ ...defaultKubeletConfiguration(), ...fields }, nodes);
  const nineNodes = () => Array.from({ length: 9 }, (_, id) => ({ id }));

  it('checks options only for a policy other than none, as upstream short-circuits none', () => {
    expect(build({ topologyManagerPolicyOptions: { bogus: 'x' } }).policyName).toBe('none');
    expect(() =>
      build({ topologyManagerPolicy: 'restricted', topologyManagerPolicyOptions: { bogus: 'x' } }),
    ).toThrow('unknown Topology Manager Policy option: "bogus"');
  });

  it('validates both options', () => {
    const policy = 'best-effort' as const;
    expect(() =>
      build({
        topologyManagerPolicy: policy,
        topologyManagerPolicyOptions: { 'prefer-closest-numa-nodes': 'yes' },
      }),
    ).toThrow(
      'bad value for option "prefer-closest-numa-nodes": strconv.ParseBool: parsing "yes": invalid syntax',
    );
    expect(() =>
      build({
        topologyManagerPolicy: policy,
        topologyManagerPolicyOptions: { 'max-allowable-numa-nodes': 'x' },
      }),
    ).toThrow(
      'unable to convert policy option to integer "max-allowable-numa-nodes": strconv.Atoi: parsing "x": invalid syntax',
    );
    expect(() =>
      build({
        topologyManagerPolicy: policy,
        topologyManagerPolicyOptions: { 'max-allowable-numa-nodes': '4' },
      }),
    ).toThrow('the minimum value of "max-allowable-numa-nodes" should not be less than 8');
  });

  it('refuses more NUMA nodes than max-allowable-numa-nodes, unless raised', () => {
    expect(() => build({ topologyManagerPolicy: 'single-numa-node' }, nineNodes)).toThrow(
      'unsupported on machines with more than 8 NUMA Nodes',
    );
    expect(
      build(
        {
          topologyManagerPolicy: 'single-numa-node',
          topologyManagerPolicyOptions: { 'max-allowable-numa-nodes': '9' },
        },
        nineNodes,
      ).policyName,
    ).toBe('single-numa-node');
    expect(build({ topologyManagerPolicy: 'none' }, nineNodes).policyName).toBe('none');
    // The error stops the start as the CPU manager's do.
    expect(() => build({ topologyManagerPolicy: 'restricted' }, nineNodes)).toThrow(ResourceManagerError);
  });

  it('needs the NUMA distances for prefer-closest-numa-nodes', async () => {
    const sysfs = await fakeSysfs(2, false);
    expect(() =>
      build(
        {
          topologyManagerPolicy: 'best-effort',
          topologyManagerPolicyOptions: { 'prefer-closest-numa-nodes': 'true' },
        },
        () => readNumaNodes(sysfs),
      ),
    ).toThrow('cannot discover NUMA topology: error getting NUMA distances from cadvisor');
  });

  it('reads the nodes and distances from sysfs', async () => {
    expect(readNumaNodes(await fakeSysfs(2))).toEqual([
      { id: 0, distances: [10, 20] },
      { id: 1, distances: [20, 10] },
    ]);
    expect(readNumaNodes(join(dir, 'nowhere'))).toEqual([{ id: 0 }]);
  });
});
