/**
 * Runs INSIDE the micro-VM (root, the guest's own kernel and /proc/sys): the nodeagent-kubelet
 * binary (its bundle's path is argv[2]) started three times, standalone on the fake CRI runtime,
 * against the guest's real kernel settings — protectKernelDefaults: true on the guest's boot
 * values, then false, then true again — and the six sysctls read around each start. The guest's
 * boot values are written back at the end. Prints one `SCENARIO-RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { guestSpeedFactor } from '../../../../../tools/vm/speed';

const cli = process.argv[2] as string;
const flags = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
];

/** The six values as the kernel has them now (read here, apart from the code under test). */
function readSysctls(): Record<string, number> {
  return Object.fromEntries(flags.map((f) => [f, Number(readFileSync(`/proc/sys/${f}`, 'utf8').trim())]));
}

interface Start {
  /** Exit code when it exited by itself; null when it reached "kubelet started" (then SIGTERMed). */
  code: number | null;
  stderr: string;
}

/** One kubelet start with protectKernelDefaults as given, to its exit or to "kubelet started". */
async function startKubelet(dir: string, name: string, protect: boolean, endpoint: string): Promise<Start> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      `protectKernelDefaults: ${protect}`,
      'failSwapOn: false',
      `podLogsDir: ${join(dir, `${name}-logs`)}`,
      'address: 127.0.0.1',
      '',
    ].join('\n'),
  );
  const env = { ...process.env };
  // The guest's /proc/sys is the point here: no directory stands in for it.
  delete env.NODEAGENT_KUBELET_SYSCTL_ROOT;
  const child = spawn(
    process.execPath,
    [
      cli,
      '--config',
      config,
      '-v=2',
      '--hostname-override',
      name,
      '--node-ip',
      '127.0.0.1',
      '--root-dir',
      join(dir, `${name}-root`),
      `--cert-dir=${join(dir, `${name}-pki`)}`,
      `--container-runtime-endpoint=${endpoint}`,
      // A fixed free port: the guest runs nothing else.
      '--port=10250',
      '--healthz-port=0',
      '--authorization-mode=AlwaysAllow',
      '--cgroups-per-qos=false',
      '--enforce-node-allocatable=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
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

async function main(): Promise<void> {
  // The kubelet's start-up checks read the cgroup filesystem: the unified hierarchy, as the other scenarios.
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    await new Promise<void>((resolve, reject) =>
      spawn('mount', ['-t', 'cgroup2', 'none', '/sys/fs/cgroup'], { stdio: 'inherit' }).once('exit', (c) =>
        c === 0 ? resolve() : reject(new Error(`mount cgroup2: exit ${c}`)),
      ),
    );
  }
  const dir = mkdtempSync('/tmp/na-kernel-tunables-');
  const boot = readSysctls();
  const fake = await FakeRuntime.start();
  try {
    const refused = await startKubelet(dir, 'protect', true, fake.endpoint);
    const afterRefusal = readSysctls();
    const modified = await startKubelet(dir, 'modify', false, fake.endpoint);
    const afterModify = readSysctls();
    const protectedAgain = await startKubelet(dir, 'protect-again', true, fake.endpoint);
    // The lines the test reads (a -v=2 start logs far more), and the end for a failure's report.
    const tail = (s: Start) => ({
      code: s.code,
      stderr: s.stderr
        .split('\n')
        .filter((l) => /kernel flag|ContainerManager|^Error: /.test(l))
        .join('\n'),
      end: s.stderr.slice(-2000),
    });
    console.log(
      `SCENARIO-RESULT ${JSON.stringify({
        boot,
        refused: tail(refused),
        afterRefusal,
        modified: tail(modified),
        afterModify,
        protectedAgain: tail(protectedAgain),
      })}`,
    );
  } finally {
    await fake.stop();
    // The guest's boot values back (its panic=-1 among them), though the VM ends with the scenario.
    for (const [flag, value] of Object.entries(boot)) writeFileSync(`/proc/sys/${flag}`, String(value));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
