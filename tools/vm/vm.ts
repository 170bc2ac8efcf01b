import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmBootError, VmPrerequisiteError, VmTimeoutError } from './errors';
import { FileTail } from './file-tail';
import { ensureInitramfs } from './initramfs';
import { findGuestKernel, hardwareKvmAvailable, hostTscKhz } from './kernel';
import { runScript } from './run-script';
import { speedFactor } from './speed';
import { type GuestInit, SYSTEMD_REFERENCE_BOOT_MS, systemdKernelArgs } from './systemd-boot';

export { VmBootError, VmError, VmPrerequisiteError, VmTimeoutError } from './errors';
export { guestSpeedFactor, REFERENCE_BOOT_MS, speedFactor, VM_TEST_TIMEOUT_MS } from './speed';
export type { GuestInit } from './systemd-boot';

export interface RunInVmOptions {
  /** Program to run inside the guest (looked up on PATH there; the guest sees the host's root). */
  command: string;
  args?: readonly string[];
  /** Working directory inside the guest; must exist on the host's root filesystem. Default: process.cwd(). */
  cwd?: string;
  /** Extra environment. PATH defaults to the host's PATH; HOME to /tmp. */
  env?: Readonly<Record<string, string>>;
  /**
   * How long the command may run on an idle machine (boot excluded). Default 180 000 ms. The
   * limit applied is this times the run's speed factor (its boot time against an idle machine's,
   * see speed.ts), so a busy machine gets proportionally longer instead of losing a race.
   */
  timeoutMs?: number;
  /** How long the boot (qemu start → the command starting) may take. Default 120 000 ms. */
  bootTimeoutMs?: number;
  /** Guest memory in MiB. Default 1024. */
  memoryMb?: number;
  /** Guest vCPUs. Default 1 (the host's cores are shared). */
  cpus?: number;
  /**
   * The guest's PID 1: 'sh' (default) runs the command straight after the initramfs; 'systemd'
   * boots the host's systemd on cgroup v2, which runs it as system.slice/nodeagent-vm.service
   * (systemd-boot.ts). The boot's speed factor is then measured against a systemd boot's reference.
   */
  init?: GuestInit;
  /**
   * How long qemu may take to exit once the guest wrote its exit status, times the speed factor
   * (default 10 s); then it is killed and the run's result stands.
   */
  exitGraceMs?: number;
  /** The qemu binary to run (default `qemu-system-x86_64` on PATH); tests give one that cannot start. */
  qemuBinary?: string;
  /** Called with each chunk of the command's stdout/stderr as the guest writes it. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
}

export interface VmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Kernel console (boot messages); useful when something goes wrong. */
  console: string;
  durationMs: number;
  /** qemu start → the guest's run.sh running. */
  bootMs: number;
  /** bootMs against an idle machine's (≥ 1): what timeoutMs was multiplied by. */
  speedFactor: number;
  /** CPU time qemu used (user + system, its last sample before it exited, 50 ms apart). */
  qemuCpuMs: number;
}

const qemuBinary = 'qemu-system-x86_64';
/**
 * How long qemu may take to exit after the guest wrote its exit status (times the speed factor):
 * the guest's sync and reset take well under a second when qemu does exit.
 */
const EXIT_GRACE_MS = 10_000;
const virtiofsdBinary = '/usr/lib/qemu/virtiofsd';

/** Children still alive, killed synchronously if this process exits before cleaning up. */
const liveChildren = new Set<ChildProcess>();
/** Run dirs not yet removed, removed synchronously if this process exits first (a CLI's signal). */
const liveRunDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
    for (const work of liveRunDirs) removeRunDir(work);
  });
}
function track(child: ChildProcess): ChildProcess {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/**
 * Removes a run's temp dir. Its `rootfs` is a mount point only inside virtiofsd's private mount
 * namespace, so here it is an empty dir (or absent, if the run failed before making it); if it
 * cannot be removed for any other reason, something is mounted there and the dir is left rather
 * than recursed through.
 */
function removeRunDir(work: string): void {
  try {
    rmdirSync(join(work, 'rootfs'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
  }
  rmSync(work, { recursive: true, force: true });
  liveRunDirs.delete(work);
}

/**
 * Kills every qemu/virtiofsd this process started. For signal handlers: a process ended by a
 * signal does not run 'exit' listeners, so a CLI should call this on SIGINT/SIGTERM.
 */
export function killAllVms(): void {
  for (const c of liveChildren) c.kill('SIGKILL');
}

/**
 * Resolves when the child has gone: its 'exit', or its 'error' when it could not be started (a
 * missing binary emits 'error' with a negative exitCode and never 'exit').
 */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => {
      if (child.pid === undefined) resolve();
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited(child);
  clearTimeout(timer);
}

async function waitForFile(path: string, child: ChildProcess, what: string, logPath: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new VmPrerequisiteError(what, path, `socket never appeared: ${readTail(logPath)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readTail(path: string, max = 4000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > max ? text.slice(-max) : text;
  } catch {
    return '';
  }
}

/** A live process's user + system CPU time in ms (/proc/<pid>/stat), undefined once it has gone. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name (which may hold spaces, in parentheses): utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Why each child that could not be started did not (its spawn 'error'), for the caller's message. */
const startErrors = new WeakMap<ChildProcess, Error>();

function spawnLogged(cmd: string, args: string[], logPath: string): ChildProcess {
  const fd = openSync(logPath, 'a');
  try {
    const child = track(spawn(cmd, args, { stdio: ['ignore', fd, fd] }));
    // Without a listener a binary that cannot start (ENOENT, EACCES) would be an uncaught 'error'
    // and the run's finally, which removes its dir, would never run.
    child.on('error', (error) => {
      if (child.pid === undefined) startErrors.set(child, error);
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

/**
 * Boots Debian's cloud kernel in qemu with the host's root shared read-only (virtiofs), runs
 * `command` inside, streams its output back and returns its exit code. Everything the run creates
 * (temp dir, sockets, qemu, virtiofsd, the private bind mount) is gone when the promise settles.
 */
export async function runInVm(options: RunInVmOptions): Promise<VmResult> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 180_000;
  const bootTimeoutMs = options.bootTimeoutMs ?? 120_000;
  const memoryMb = options.memoryMb ?? 1024;
  const cpus = options.cpus ?? 1;
  if (!existsSync(virtiofsdBinary))
    throw new VmPrerequisiteError('virtiofsd', virtiofsdBinary, 'missing (apt install qemu-system-x86)');
  const kernel = findGuestKernel();
  const init = options.init ?? 'sh';
  const initramfs = ensureInitramfs(kernel, undefined, init);

  installExitHook();
  const work = mkdtempSync(join(tmpdir(), `na-vm-${process.pid}-${randomBytes(3).toString('hex')}-`));
  liveRunDirs.add(work);
  const rootMount = join(work, 'rootfs');
  const ioDir = join(work, 'io');
  const consoleLog = join(work, 'console.log');
  const daemonLog = join(work, 'virtiofsd.log');
  const children: ChildProcess[] = [];
  const stdout = new FileTail(join(ioDir, 'stdout'), options.onStdout);
  const stderr = new FileTail(join(ioDir, 'stderr'), options.onStderr);
  let poller: NodeJS.Timeout | undefined;
  // Everything from here on is inside the try: whatever fails, the finally removes the run dir.
  try {
    mkdirSync(rootMount);
    mkdirSync(ioDir);
    writeFileSync(
      join(ioDir, 'run.sh'),
      runScript({
        command: options.command,
        args: options.args ?? [],
        cwd: options.cwd ?? process.cwd(),
        env: {
          PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
          HOME: '/tmp',
          ...options.env,
        },
      }),
    );
    // virtiofsd cannot export `/` itself; a read-only bind of `/` in a private mount namespace
    // (which disappears with the daemon) is exported instead.
    const rootSock = join(work, 'root.sock');
    const ioSock = join(work, 'io.sock');
    const rootFs = spawnLogged(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount --bind / "$1" && mount -o remount,bind,ro "$1" && exec "$2" --socket-path="$3" -o source="$1" -o cache=always',
        'sh',
        rootMount,
        virtiofsdBinary,
        rootSock,
      ],
      daemonLog,
    );
    children.push(rootFs);
    const ioFs = spawnLogged(
      virtiofsdBinary,
      [`--socket-path=${ioSock}`, '-o', `source=${ioDir}`, '-o', 'cache=none'],
      daemonLog,
    );
    children.push(ioFs);
    await waitForFile(rootSock, rootFs, 'virtiofsd (root)', daemonLog);
    await waitForFile(ioSock, ioFs, 'virtiofsd (io)', daemonLog);

    const accel = hardwareKvmAvailable()
      ? ['-accel', 'kvm', '-cpu', 'host']
      : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      // Reset by triple fault, which qemu (-no-reboot) always turns into its exit: the default
      // order tries the microvm's ACPI reset first, and after a "sysrq: Resetting" qemu once went
      // on spinning until killed.
      'reboot=t',
      `tsc_early_khz=${hostTscKhz()}`,
      'rdinit=/init',
      ...(init === 'systemd' ? systemdKernelArgs : []),
    ].join(' ');
    // biome-ignore format: one qemu option per line reads better
    const qemuArgs = [
      '-M', 'microvm,x-option-roms=off,isa-serial=on,rtc=on,memory-backend=mem',
      ...accel,
      '-m', `${memoryMb}M`, '-smp', String(cpus),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      // virtiofsd rejects legacy virtio devices.
      '-global', 'virtio-mmio.force-legacy=false',
      // vhost-user needs guest memory the daemons can map.
      '-object', `memory-backend-memfd,id=mem,size=${memoryMb}M,share=on`,
      '-chardev', `socket,id=rootfs,path=${rootSock}`, '-device', 'vhost-user-fs-device,chardev=rootfs,tag=root',
      '-chardev', `socket,id=iofs,path=${ioSock}`, '-device', 'vhost-user-fs-device,chardev=iofs,tag=io',
      '-serial', `file:${consoleLog}`,
      '-kernel', kernel.image, '-initrd', initramfs, '-append', append,
    ];
    const qemuStarted = Date.now();
    const qemuCommand = options.qemuBinary ?? qemuBinary;
    const qemu = spawnLogged(qemuCommand, qemuArgs, join(work, 'qemu.log'));
    children.push(qemu);

    // One timer at a time: first the boot's, then, once the guest says it has booted, the
    // command's, scaled by how slow that boot was.
    let timedOut: { phase: 'boot' | 'command'; limitMs: number } | undefined;
    let limitMs = bootTimeoutMs;
    let timer = setTimeout(() => {
      timedOut = { phase: 'boot', limitMs: bootTimeoutMs };
      qemu.kill('SIGKILL');
    }, bootTimeoutMs);
    let bootMs = 0;
    let factor = 1;
    let cpuMs = 0;
    let exitSeen = false;
    const bootedFile = join(ioDir, 'booted');
    poller = setInterval(() => {
      if (bootMs === 0 && existsSync(bootedFile)) {
        bootMs = Date.now() - qemuStarted;
        factor = speedFactor(bootMs, init === 'systemd' ? SYSTEMD_REFERENCE_BOOT_MS : undefined);
        writeFileSync(join(ioDir, 'speed'), `${factor}\n`);
        clearTimeout(timer);
        limitMs = Math.round(timeoutMs * factor);
        timer = setTimeout(() => {
          timedOut = { phase: 'command', limitMs };
          qemu.kill('SIGKILL');
        }, limitMs);
      }
      // The guest wrote its exit status and asked for a reset: qemu (-no-reboot) should exit at
      // once. Once (a CI run) it went on spinning for over 20 minutes after the guest's "sysrq:
      // Resetting", so after a grace period it is killed and the run's result stands.
      if (!exitSeen && existsSync(join(ioDir, 'exit'))) {
        exitSeen = true;
        clearTimeout(timer);
        const graceMs = Math.round((options.exitGraceMs ?? EXIT_GRACE_MS) * factor);
        timer = setTimeout(() => qemu.kill('SIGKILL'), graceMs);
      }
      cpuMs = processCpuMs(qemu.pid) ?? cpuMs;
      stdout.poll();
      stderr.poll();
    }, 50);
    await exited(qemu);
    clearTimeout(timer);
    clearInterval(poller);
    const startError = startErrors.get(qemu);
    if (startError)
      throw new VmPrerequisiteError('qemu', qemuCommand, `could not be started: ${startError.message}`);
    stdout.poll();
    stderr.poll();

    const consoleText = readTail(consoleLog);
    if (timedOut)
      throw new VmTimeoutError(
        timedOut.phase,
        timedOut.limitMs,
        factor,
        stdout.text(),
        stderr.text(),
        consoleText,
      );
    const statsFile = process.env.NODEAGENT_VM_STATS_FILE;
    if (statsFile)
      appendFileSync(
        statsFile,
        `${JSON.stringify({ command: [options.command, ...(options.args ?? [])].join(' ').slice(0, 200), bootMs, durationMs: Date.now() - started, qemuCpuMs: cpuMs, speedFactor: factor, load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') })}\n`,
      );
    const exitFile = join(ioDir, 'exit');
    if (!existsSync(exitFile)) {
      const qemuLog = readTail(join(work, 'qemu.log'));
      throw new VmBootError(
        `VM stopped without an exit status (qemu exit ${qemu.exitCode}) ${qemuLog}`,
        consoleText,
      );
    }
    return {
      exitCode: Number.parseInt(readFileSync(exitFile, 'utf8').trim(), 10),
      stdout: stdout.text(),
      stderr: stderr.text(),
      console: consoleText,
      durationMs: Date.now() - started,
      bootMs,
      speedFactor: factor,
      qemuCpuMs: cpuMs,
    };
  } finally {
    if (poller) clearInterval(poller);
    for (const child of children.reverse()) await stop(child);
    removeRunDir(work);
  }
}
