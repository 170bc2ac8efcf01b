/**
 * Runs INSIDE the micro-VM (root, the guest's own cgroup2 hierarchy): the nodeagent-kubelet binary
 * (its bundle's path is argv[2]) started standalone on the fake CRI runtime, twice — with
 * enforceNodeAllocatable pods,system-reserved,kube-reserved-compressible on two cgroups made here,
 * then with kube-reserved on a cgroup that does not exist — and the cgroups' files read back after
 * each start. The cgroups made here are removed at the end. Prints one `SCENARIO-RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { guestSpeedFactor } from '../../../../../tools/vm/speed';

const cli = process.argv[2] as string;
const mountRoot = '/sys/fs/cgroup';
const suffix = `${process.pid}-${Date.now().toString(36)}`;
/** The reserved cgroups (made here, as an operator makes them) and one that is never made. */
const names = {
  system: `na-sysres-${suffix}`,
  kube: `na-kuberes-${suffix}`,
  missing: `na-missing-${suffix}`,
};

interface Start {
  /** Exit code when it exited by itself; null when it reached "kubelet started" (then SIGTERMed). */
  code: number | null;
  stderr: string;
}

/** One kubelet start with the extra flags, to its exit or to "kubelet started". */
async function startKubelet(dir: string, name: string, extra: string[], endpoint: string): Promise<Start> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      'failSwapOn: false',
      `podLogsDir: ${join(dir, `${name}-logs`)}`,
      'address: 127.0.0.1',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [
      cli,
      '--config',
      config,
      '--hostname-override',
      name,
      '--node-ip',
      '127.0.0.1',
      '--root-dir',
      join(dir, `${name}-root`),
      `--cert-dir=${join(dir, `${name}-pki`)}`,
      `--container-runtime-endpoint=${endpoint}`,
      '--port=10250',
      '--healthz-port=0',
      '--authorization-mode=AlwaysAllow',
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  let started = false;
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (!started && stderr.includes('"kubelet started"')) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  // A guard against a hang only (a start takes seconds to tens of seconds under TCG).
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000 * guestSpeedFactor());
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(guard);
  return { code: started ? null : code, stderr };
}

/** A cgroup's files as the kernel has them (read here, apart from the code under test). */
function files(cgroup: string): Record<string, string> {
  const read = (file: string) => readFileSync(join(mountRoot, cgroup, file), 'utf8').trim();
  return { 'cpu.weight': read('cpu.weight'), 'memory.max': read('memory.max'), 'pids.max': read('pids.max') };
}

async function main(): Promise<void> {
  if (!existsSync(join(mountRoot, 'cgroup.controllers'))) {
    await new Promise<void>((resolve, reject) =>
      spawn('mount', ['-t', 'cgroup2', 'none', mountRoot], { stdio: 'inherit' }).once('exit', (c) =>
        c === 0 ? resolve() : reject(new Error(`mount cgroup2: exit ${c}`)),
      ),
    );
  }
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
    const tail = (s: Start) => ({
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
