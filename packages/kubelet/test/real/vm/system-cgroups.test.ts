/**
 * kubeletCgroups and systemCgroups on a real kernel (micro-VM, cgroup v2): the nodeagent-kubelet
 * binary, run by system-cgroups-scenario.ts inside the throwaway guest, moves itself into
 * kubeletCgroups and the guest's other processes of the root cgroup into systemCgroups (kernel
 * threads and pid 1 stay), logs the kernel's refusal of a cgroup that delegates a controller, and
 * refuses systemCgroups "/", as upstream v1.36's container manager. Never on this host: its
 * processes and cgroups are left alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';
import { runKubeletScenario } from './kubelet-binary-in-vm';

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;

beforeAll(async () => {
  r = await runKubeletScenario(new URL('./system-cgroups-scenario.ts', import.meta.url));
}, VM_TEST_TIMEOUT_MS);

describe('kubeletCgroups and systemCgroups in the micro-VM', () => {
  it('starts with everything in the root cgroup', () => {
    expect(r.scenarioBefore).toBe('0::/');
  });

  it('moves the kubelet into kubeletCgroups (created), with its oom_score_adj', () => {
    expect(r.moved.kubelet).toBe(`0::${r.names.kubelet}`);
    expect(r.moved.kubeletProcs.split('\n').map(Number)).toEqual([r.moved.pid]);
    expect(r.moved.kubeletOomScoreAdj).toBe('-999');
  });

  it('moves the root cgroup’s other processes into systemCgroups, leaving pid 1 and kernel threads', () => {
    expect(r.moved.sleeper).toBe(`0::${r.names.system}`);
    expect(r.moved.scenario).toBe(`0::${r.names.system}`);
    const left = r.moved.root as { pid: number; exe: boolean }[];
    expect(left.filter((p) => p.exe && p.pid !== 1)).toEqual([]);
    expect(left.map((p) => p.pid)).toContain(1);
    expect(left.filter((p) => !p.exe).length).toBeGreaterThan(0);
  });

  it("logs the kernel's no-internal-processes refusal in upstream's words and stays where it was", () => {
    expect(r.busy.cgroupAfter).toBe(r.busy.cgroupBefore);
    expect(r.busy.lines.length).toBeGreaterThan(0);
    const line = r.busy.lines[0] as string;
    expect(line).toContain('"Failed to ensure state"');
    expect(line).toContain(`containerName="${r.names.busy}"`);
    expect(line).toContain(
      `failed to write ${r.busy.pid}: write /sys/fs/cgroup${r.names.busy}/cgroup.procs: device or resource busy`,
    );
  });

  it('refuses systemCgroups "/" as upstream\'s container manager, exit 1', () => {
    expect(r.root.code).toBe(1);
    expect(r.root.lines.join('\n')).toContain(
      'Error: Failed to start ContainerManager: system container cannot be root ("/")',
    );
  });
});
