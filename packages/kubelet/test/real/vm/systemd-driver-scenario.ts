/**
 * Runs INSIDE the micro-VM booted with systemd as PID 1 on cgroup v2 (runInVm init 'systemd'; this
 * process is system.slice/nodeagent-vm.service): nodes with the systemd cgroup driver, one after
 * the other in the same boot (systemd-driver-node.ts runs each):
 *   1. containerd 1.6 (SystemdCgroup = true) and our Kubelet configured with cgroupDriver systemd:
 *      1.6 answers RuntimeConfig Unimplemented, so the configured driver stands;
 *   2. containerd 2.1 with its runc 1.3 (SystemdCgroup = true) and our Kubelet configured with
 *      cgroupDriver cgroupfs: the driver must come from 2.1's RuntimeConfig answer (systemd); also
 *      a hostUsers: false pod and an image volume.
 * Both kubelets run with the MemoryQoS gate on and swapBehavior LimitedSwap, on a zram swap device
 * turned on first (systemd-driver-memory.ts).
 * Prints `SCENARIO-RESULT <json>`; systemd-driver.test.ts asserts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { swapOff, swapOn } from './systemd-driver-memory';
import { run, runSystemdDriverNode, type StartContainerd, step } from './systemd-driver-node';

const toolsContainerd =
  process.argv[2] ?? fileURLToPath(new URL('../../../../../tools/containerd/containerd.ts', import.meta.url));

/** This boot: systemd as PID 1 on the unified hierarchy, and only tools/vm's own unit started. */
function bootFacts() {
  return {
    pid1: readFileSync('/proc/1/comm', 'utf8').trim(),
    fstype: run('stat', '-f', '-c', '%T', '/sys/fs/cgroup'),
    selfCgroup: readFileSync('/proc/self/cgroup', 'utf8').trim(),
    hostContainerdService: run('systemctl', 'show', '-P', 'ActiveState', 'containerd.service'),
    activeServices: run(
      'systemctl',
      'list-units',
      '--type=service',
      '--state=active',
      '--no-legend',
      '--plain',
    )
      .split('\n')
      .filter(Boolean).length,
  };
}

async function main() {
  step('scenario started');
  const r: Record<string, unknown> = bootFacts();
  r.swap = swapOn();
  const dir = `/run/na-sdnode-${process.pid}-${randomBytes(3).toString('hex')}`;
  // runc's systemd cgroup driver in both versions' config (tools/containerd's runc options).
  process.env.NODEAGENT_CONTAINERD_SYSTEMD_CGROUP = '1';
  const { startContainerd } = (await import(toolsContainerd)) as { startContainerd: StartContainerd };
  r.nodes = {
    '1.6': await runSystemdDriverNode({
      version: '1.6',
      configuredDriver: 'systemd',
      dir: `${dir}/v16`,
      startContainerd,
    }),
    '2.1': await runSystemdDriverNode({
      version: '2.1',
      configuredDriver: 'cgroupfs',
      dir: `${dir}/v21`,
      startContainerd,
      userns: true,
      imageVolume: true,
    }),
  };
  swapOff();
  console.log(`SCENARIO-RESULT ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
