/**
 * enforceNodeAllocatable's reserved levels on a real kernel (micro-VM): the nodeagent-kubelet
 * binary, run by reserved-cgroups-scenario.ts inside the throwaway guest, limits two cgroups the
 * scenario made (system-reserved: cpu.weight, memory.max, pids.max; kube-reserved-compressible:
 * cpu.weight alone) and refuses to start on a kube-reserved cgroup that does not exist, as
 * upstream v1.36's container manager. Never on this host: its cgroups are left alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';
import { runKubeletScenario } from './kubelet-binary-in-vm';

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;

beforeAll(async () => {
  r = await runKubeletScenario(new URL('./reserved-cgroups-scenario.ts', import.meta.url));
}, VM_TEST_TIMEOUT_MS);

describe('enforceNodeAllocatable reserved levels in the micro-VM', () => {
  it('starts with the kernel defaults on the new cgroups', () => {
    expect(r.before.system).toEqual({ 'cpu.weight': '100', 'memory.max': 'max', 'pids.max': 'max' });
    expect(r.before.kube).toEqual(r.before.system);
  });

  it('system-reserved: the reservation as the cgroup limits, read back from the kernel', () => {
    expect(r.enforced.code).toBeNull();
    // 500m → 512 shares → weight 1 + (510 * 9999) / 262142 = 20; 100Mi; pid=1000.
    expect(r.after.system).toEqual({
      'cpu.weight': '20',
      'memory.max': String(100 * 2 ** 20),
      'pids.max': '1000',
    });
  });

  it('kube-reserved-compressible: CPU alone (250m → 256 shares → weight 10), memory left unlimited', () => {
    expect(r.after.kube).toEqual({ 'cpu.weight': '10', 'memory.max': 'max', 'pids.max': 'max' });
  });

  it('a kube-reserved cgroup that does not exist stops the start with upstream wording, and is not made', () => {
    expect(r.missing.code).toBe(1);
    const name = r.names.missing as string;
    expect(r.missing.errors).toContain(
      `Failed to start ContainerManager: Failed to enforce Kube Reserved Cgroup Limits on "/${name}": could not read controllers for cgroup ["${name}"]: open /sys/fs/cgroup/${name}/cgroup.controllers: no such file or directory`,
    );
    expect(r.missingCreated).toBe(false);
  });
});
