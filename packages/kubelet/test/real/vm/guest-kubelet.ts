/**
 * For scenarios that run INSIDE the micro-VM and start the nodeagent-kubelet binary standalone
 * on the fake CRI runtime (kernel-tunables, reserved-cgroups, system-cgroups): one start's
 * config file and command line, the cgroup2 mount the kubelet's start-up checks read, and a
 * start run to its exit or to "kubelet started".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { guestSpeedFactor } from '../../../../../tools/vm/speed';

/** One kubelet start of a scenario. */
export interface GuestKubeletStart {
  /** The bundled kubelet CLI the scenario got as argv[2]. */
  cli: string;
  /** The scenario's temp directory: config, root, pki and log directories go under it per `name`. */
  dir: string;
  /** The start's name: its node name and its files' prefix. */
  name: string;
  /** The fake CRI runtime's endpoint. */
  endpoint: string;
  /** KubeletConfiguration lines after the common ones. */
  configLines?: readonly string[];
  /** Flags after the common ones. */
  flags?: readonly string[];
  /** The kubelet's environment (default: the scenario's). */
  env?: NodeJS.ProcessEnv;
}

/** A running kubelet: its process, what it logged so far, and its exit. */
export interface GuestKubelet {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts the kubelet binary with a config file and the command line every such start shares. */
export function spawnGuestKubelet(start: GuestKubeletStart): GuestKubelet {
  const { cli, dir, name } = start;
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      'failSwapOn: false',
      `podLogsDir: ${join(dir, `${name}-logs`)}`,
      'address: 127.0.0.1',
      ...(start.configLines ?? []),
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
      `--container-runtime-endpoint=${start.endpoint}`,
      // A fixed free port: the guest runs nothing else.
      '--port=10250',
      '--healthz-port=0',
      '--authorization-mode=AlwaysAllow',
      ...(start.flags ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: start.env ?? process.env },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, stderr: () => stderr, exited };
}

/** How a start ended: its exit code, or null when it reached "kubelet started" (then SIGTERMed). */
export interface GuestKubeletOutcome {
  code: number | null;
  stderr: string;
}

/** Runs a start to its own exit, or to "kubelet started" and then stops it. */
export async function runGuestKubelet(start: GuestKubeletStart): Promise<GuestKubeletOutcome> {
  const kubelet = spawnGuestKubelet(start);
  let started = false;
  kubelet.child.stderr?.on('data', () => {
    if (!started && kubelet.stderr().includes('"kubelet started"')) {
      started = true;
      kubelet.child.kill('SIGTERM');
    }
  });
  // A guard against a hang only (a start takes seconds to tens of seconds under TCG).
  const guard = setTimeout(() => kubelet.child.kill('SIGKILL'), 240_000 * guestSpeedFactor());
  const code = await kubelet.exited;
  clearTimeout(guard);
  return { code: started ? null : code, stderr: kubelet.stderr() };
}

/** Mounts the unified hierarchy at `mount` unless it is there: the kubelet's start-up checks read it. */
export async function mountCgroup2(mount = '/sys/fs/cgroup'): Promise<void> {
  if (existsSync(join(mount, 'cgroup.controllers'))) return;
  await new Promise<void>((resolve, reject) =>
    spawn('mount', ['-t', 'cgroup2', 'none', mount], { stdio: 'inherit' }).once('exit', (c) =>
      c === 0 ? resolve() : reject(new Error(`mount cgroup2: exit ${c}`)),
    ),
  );
}
