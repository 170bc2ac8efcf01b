/**
 * Runs INSIDE the micro-VM (root, the guest's own cgroup2 hierarchy): the nodeagent-kubelet binary
 * (its bundle's path is argv[2]) started standalone on the fake CRI runtime, twice — with
 * enforceNodeAllocatable pods,system-reserved,kube-reserved-compressible on two cgroups made here,
 * then with kube-reserved on a cgroup that does not exist — and the cgroups' files read back after
 * each start. The cgroups made here are removed at the end. Prints one `SCENARIO-RESULT {json}` line.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type GuestKubeletOutcome, mountCgroup2, runGuestKubelet } from './guest-kubelet';

const cli = process.argv[2] as string;
const mountRoot = '/sys/fs/cgroup';
const suffix = `${process.pid}-${Date.now().toString(36)}`;
/** The reserved cgroups (made here, as an operator makes them) and one that is never made. */
const names = {
  system: `na-sysres-${suffix}`,
  kube: `na-kuberes-${suffix}`,
  missing: `na-missing-${suffix}`,
};

/** One kubelet start with the extra flags, to its exit or to "kubelet started". */
function startKubelet(
  dir: string,
  name: string,
  flags: string[],
  endpoint: string,
): Promise<GuestKubeletOutcome> {
  return runGuestKubelet({ cli, dir, name, endpoint, flags });
}

/** A cgroup's files as the kernel has them (read here, apart from the code under test). */
function files(cgroup: string): Record<string, string> {
  const read = (file: string) => readFileSync(join(mountRoot, cgroup, file), 'utf8').trim();
  return { 'cpu.weight': read('cpu.weight'), 'memory.max': read('memory.max'), 'pids.max': read('pids.max') };
}

async function main(): Promise<void> {
  await mountCgroup2(mountRoot);
  // Every controller delegated below the root, so the reserved cgroups have what the kubelet needs.
  const controllers = readFileSync(join(mountRoot, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  writeFileSync(join(mountRoot, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
  mkdirSync(join(mountRoot, names.system));
  mkdirSync(join(mountRoot, names.kube));
  const before = { system: files(names.system), kube: files(names.kube) };
  const dir = mkdtempSync('/tmp/na-reserved-cgroups-');
  const fake = await FakeRuntime.start();
  try {
    const enforced = await startKubelet(
      dir,
      'enforced',
      [
        '--enforce-node-allocatable=pods,system-reserved,kube-reserved-compressible',
        `--system-reserved-cgroup=/${names.system}`,
        `--kube-reserved-cgroup=/${names.kube}`,
        '--system-reserved=cpu=500m,memory=100Mi,pid=1000',
        '--kube-reserved=cpu=250m,memory=50Mi',
      ],
      fake.endpoint,
    );
    const after = { system: files(names.system), kube: files(names.kube) };
    const missing = await startKubelet(
      dir,
      'missing',
      [
        '--enforce-node-allocatable=pods,kube-reserved',
        `--kube-reserved-cgroup=/${names.missing}`,
        '--kube-reserved=cpu=250m,memory=50Mi',
      ],
      fake.endpoint,
    );
    const tail = (s: GuestKubeletOutcome) => ({
      code: s.code,
      errors: s.stderr
        .split('\n')
        .filter((l) => /ContainerManager|^Error: /.test(l))
        .join('\n'),
      end: s.stderr.slice(-2000),
    });
    console.log(
      `SCENARIO-RESULT ${JSON.stringify({
        names,
        controllers,
        before,
        enforced: tail(enforced),
        after,
        missing: tail(missing),
        missingCreated: existsSync(join(mountRoot, names.missing)),
      })}`,
    );
  } finally {
    await fake.stop();
    for (const name of [names.system, names.kube]) rmdirSync(join(mountRoot, name));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
