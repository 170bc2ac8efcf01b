/**
 * The kubelet's kernel tunables on a real kernel (micro-VM): the nodeagent-kubelet binary, run
 * by kernel-tunables-scenario.ts inside the throwaway guest, sets vm.overcommit_memory,
 * kernel.panic… in the guest's /proc/sys by default, and with protectKernelDefaults: true refuses
 * to start while any differs, as upstream v1.36's container manager (setupKernelTunables). Never
 * on this host: its kernel settings are left alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';
import { runKubeletScenario } from './kubelet-binary-in-vm';

/** Upstream's desired values (pkg/util/sysctl), written out here apart from the code under test. */
const upstream: Record<string, number> = {
  'vm/overcommit_memory': 1,
  'vm/panic_on_oom': 0,
  'kernel/panic': 10,
  'kernel/panic_on_oops': 1,
  'kernel/keys/root_maxkeys': 1000000,
  'kernel/keys/root_maxbytes': 25000000,
};

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;

beforeAll(async () => {
  r = await runKubeletScenario(new URL('./kernel-tunables-scenario.ts', import.meta.url));
}, VM_TEST_TIMEOUT_MS);

/** The flags whose boot value differs from upstream's, in upstream's listing order. */
function differing(): string[] {
  return Object.keys(upstream).filter((flag) => r.boot[flag] !== upstream[flag]);
}

describe('kernel tunables in the micro-VM', () => {
  it('boots with values upstream would change (kernel.panic=-1 from the command line at least)', () => {
    expect(r.boot['kernel/panic']).toBe(-1);
    expect(differing()).toContain('kernel/panic');
  });

  it('refuses to start with protectKernelDefaults: true, naming each difference, writing none', () => {
    expect(r.refused.code).toBe(1);
    const errors = differing().map(
      (flag) =>
        `invalid kernel flag: ${flag}, expected value: ${upstream[flag]}, actual value: ${r.boot[flag]}`,
    );
    const aggregate = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
    expect(r.refused.stderr).toContain(`Error: Failed to start ContainerManager: ${aggregate}`);
    expect(r.afterRefusal).toEqual(r.boot);
  });

  it('sets every value upstream wants by default, logging each change at -v=2, and runs', () => {
    expect(r.modified.code).toBeNull();
    expect(r.afterModify).toEqual(upstream);
    for (const flag of differing())
      expect(r.modified.stderr).toContain(
        `"Updating kernel flag" flag="${flag}" expectedValue=${upstream[flag]} actualValue=${r.boot[flag]}`,
      );
  });

  it('starts with protectKernelDefaults: true once the kernel has upstream values', () => {
    expect(r.protectedAgain.code).toBeNull();
    expect(r.protectedAgain.stderr).not.toContain('invalid kernel flag');
  });
});
