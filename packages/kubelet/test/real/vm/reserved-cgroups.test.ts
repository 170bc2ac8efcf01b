/**
 * enforceNodeAllocatable's reserved levels on a real kernel (micro-VM): the nodeagent-kubelet
 * binary, run by reserved-cgroups-scenario.ts inside the throwaway guest, limits two cgroups the
 * scenario made (system-reserved: cpu.weight, memory.max, pids.max; kube-reserved-compressible:
 * cpu.weight alone) and refuses to start on a kube-reserved cgroup that does not exist, as
 * upstream v1.36's container manager. Never on this host: its cgroups are left alone.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];
afterAll(() => {
  for (const dispose of disposers) dispose();
});

beforeAll(async () => {
  const { version } = JSON.parse(readFileSync(`${repoRoot}apps/kubelet/package.json`, 'utf8')) as {
    version: string;
  };
  const kubelet = bundleEntry(
    `${repoRoot}apps/kubelet/src/cli.ts`,
    { __NODEAGENT_VERSION__: JSON.stringify(version) },
    { codeCache: true },
  );
  disposers.push(kubelet.dispose);
  const scenario = bundleEntry(
    fileURLToPath(new URL('./reserved-cgroups-scenario.ts', import.meta.url)),
    {},
    { codeCache: true },
  );
  disposers.push(scenario.dispose);
  const result = await runInVm({
    command: 'node',
    args: [scenario.file, kubelet.file],
    cwd: repoRoot,
    timeoutMs: 300_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
  if (!line) throw new Error(`no result line in:\n${result.stdout}`);
  r = JSON.parse(line.slice('SCENARIO-RESULT '.length));
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
