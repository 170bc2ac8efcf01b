/**
 * The node's memory on this host (cgroup v1, hybrid: /sys/fs/cgroup/memory is the memory
 * hierarchy) as upstream's cAdvisor reads the root container: usage = the root's
 * memory.usage_in_bytes, working set = usage − memory.stat total_inactive_file. The provider's
 * figures are checked against the very texts it read (kept by a recording source), and against
 * /proc/meminfo read in the same sample, which the kubelet used before on v1.
 */
import { describe, expect, it } from 'vitest';
import { detectCgroupFilesystem } from '../../src/cgroups/cgroup-filesystem';
import { signalObservations } from '../../src/eviction/signal-observations';
import { type HostSources, systemHostSources } from '../../src/stats/host-sources';
import { HostNodeStatsProvider } from '../../src/stats/node-stats-provider';
import { nodeMemoryFromMeminfo } from '../../src/stats/proc-meminfo';

/** `key value` lines, parsed here independently of the code under test. */
function keyed(text: string): Record<string, number> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [k, v] = l.split(' ');
        return [k, Number(v)];
      }),
  );
}

describe('node memory on this cgroup v1 host', () => {
  it('comes from the root memory cgroup, as cAdvisor reads it, not from /proc/meminfo', async () => {
    expect((await detectCgroupFilesystem()).version).toBe(1);
    const real = systemHostSources();
    const seen: Record<string, string> = {};
    const recording: HostSources = {
      ...real,
      readProc: async (path) => {
        const text = await real.readProc(path);
        seen[path] = text;
        return text;
      },
      readCgroupRoot: async (file) => {
        const text = await (real.readCgroupRoot?.(file) ?? Promise.reject(new Error('no cgroup root')));
        seen[`cgroup:${file}`] = text;
        return text;
      },
    };
    const node = await new HostNodeStatsProvider({
      nodeName: 'v1',
      rootDir: '/',
      sources: recording,
    }).nodeStats();

    // No memory.stat at the mount root (that is v2's): the memory hierarchy's files were read.
    expect(seen['cgroup:memory.stat']).toBeUndefined();
    const usage = Number(seen['cgroup:memory/memory.usage_in_bytes']);
    const stat = keyed(seen['cgroup:memory/memory.stat']!);
    const memTotal = Number(/^MemTotal:\s+(\d+) kB$/m.exec(seen.meminfo!)![1]) * 1024;
    expect(usage).toBeGreaterThan(0);
    expect(stat.total_inactive_file).toBeDefined();
    const workingSet = Math.max(0, usage - stat.total_inactive_file!);
    expect(node.memory).toMatchObject({
      usageBytes: usage,
      workingSetBytes: workingSet,
      availableBytes: memTotal - workingSet,
    });
    // Eviction's memory.available is the summary's: capacity MemTotal, available MemTotal − working set.
    expect(signalObservations({ node, pods: [] }).get('memory.available')).toEqual({
      available: memTotal - workingSet,
      capacity: memTotal,
    });

    // What /proc/meminfo gave from the same sample: MemTotal − MemFree counts kernel memory (slab,
    // page tables, stacks) the root cgroup's usage leaves out, so its working set is larger and
    // memory.available smaller. The difference is at least this sample's unreclaimable slab.
    const fromMeminfo = nodeMemoryFromMeminfo(seen.meminfo!);
    const slabUnreclaim = Number(/^SUnreclaim:\s+(\d+) kB$/m.exec(seen.meminfo!)![1]) * 1024;
    console.log(
      `v1 node memory: root cgroup usage ${usage}, working set ${workingSet}; /proc/meminfo usage ${fromMeminfo.usageBytes}, working set ${fromMeminfo.workingSetBytes}; memory.available +${fromMeminfo.workingSetBytes - workingSet} bytes`,
    );
    expect(fromMeminfo.usageBytes - usage).toBeGreaterThan(slabUnreclaim / 2);
  });
});
