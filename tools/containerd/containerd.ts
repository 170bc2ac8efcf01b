import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildImages, importImages, type LocalImages, PAUSE_IMAGE } from '../images/build-images';
import { removeLeftoverCgroups } from './container-cgroups';
import {
  containerdPaths,
  renderCniConflist,
  renderContainerdConfig,
  renderPlainHttpRegistryHost,
} from './containerd-config';
import { renderContainerdConfigV3 } from './containerd-config-v3';
import {
  type ContainerdBinaries,
  type ContainerdVersion,
  containerdBinaries,
  resolveContainerdVersion,
} from './containerd-version';
import { REGISTRY_DIR, register, staleEntries, unregister } from './instance-registry';
import { sweepOrphanNetnsNames } from './orphan-netns';
import { holdParentCgroup, releaseParentCgroup } from './parent-cgroup';
import {
  isAlive,
  killAndWait,
  killQuietly,
  netnsInodes,
  pidsInNetns,
  unmountAllUnder,
  waitForExit,
} from './process-sweep';
import { chooseRunc, type RuncVersion } from './runc-version';

// For the demo, which loads this module (or its bundle) alone and prefers 2.1 when it is unpacked.
export { containerd21Available } from './containerd-version';

const run = promisify(execFile);

export interface StartContainerdOptions {
  /**
   * Which containerd: '1.6' (Debian stable's, installed) or '2.1' (Debian unstable's, unpacked by
   * tools/install-deps.mjs). Default: NODEAGENT_CONTAINERD, else '1.6'.
   */
  version?: ContainerdVersion;
  /**
   * Which runc the runc shim runs: '1.1' (Debian stable's, installed) or '1.3' (Debian unstable's,
   * unpacked by tools/install-deps.mjs; with containerd 2.1 it offers user namespaces).
   * Default: NODEAGENT_RUNC, else the containerd's own: '1.3' with 2.1, '1.1' with 1.6.
   */
  runc?: RuncVersion;
  /** Build the local pause + busybox images and import them (default true). */
  images?: boolean;
  /** Pod CIDR for the CNI bridge; default a random 10.x.y.0/24. */
  podSubnet?: string;
  /** containerd log level (default "info"); the log is `<baseDir>/containerd.log`. */
  logLevel?: string;
  /** How long to wait for the socket to answer (default 20 s). */
  startTimeoutMs?: number;
  /** CNI plugin directory (default /usr/lib/cni, Debian's containernetworking-plugins). */
  cniBinDir?: string;
  /** Keep containerd running after this Node process exits (the CLI uses this). */
  detached?: boolean;
  /**
   * First tear down instances whose owning process died without stop() (a killed test run).
   * Default: only when NODEAGENT_SWEEP_STALE_CONTAINERD=1, since on a shared machine those may
   * belong to someone else's run.
   */
  sweepStale?: boolean;
  /**
   * Put root, state, sockets, CNI config and the log in this directory (created if missing)
   * instead of a fresh `<tmpdir>/na-ctrd-*`: the demo keeps each node's containerd under its run's
   * state dir. Like the temp dir, stop() removes it.
   */
  baseDir?: string;
}

/** What `stop()` needs; also written to `<baseDir>/instance.json` for the CLI's `stop`. */
export interface ContainerdInstanceInfo {
  /** gRPC target for CRI clients: `unix://<socketPath>`. */
  endpoint: string;
  socketPath: string;
  /** Name of the network namespace containerd runs in (`ip netns` name). */
  netns: string;
  netnsPath: string;
  /** Temp dir holding root, state, socket, CNI config and the log. */
  baseDir: string;
  root: string;
  state: string;
  logFile: string;
  podSubnet: string;
  pid: number;
  /** The containerd version this instance runs ('1.6' or '2.1'). */
  version: ContainerdVersion;
  /** The `ctr` matching that version (stop() uses it; absent in files recorded before 2.1: `ctr`). */
  ctr: string;
  /** The runc series the shim runs ('1.1' or '1.3'; absent in files recorded before: '1.1'). */
  runc?: RuncVersion;
  /** Set when images were imported. */
  images?: LocalImages;
}

export interface RunningContainerd extends ContainerdInstanceInfo {
  /** Kill everything this containerd started, unmount, delete the netns and the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export class ContainerdStartError extends Error {
  readonly code = 'CONTAINERD_START_FAILED';
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- containerd log (tail) ---\n${logTail}`);
    this.name = 'ContainerdStartError';
  }
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * A random pod CIDR in 10.128.0.0/9 (away from the usual 10.0-10.127 cluster ranges; unique per
 * run with high odds): a /24 (253 pods on the bridge) by default, down to a /16 for denser nodes.
 */
export function randomPodSubnet(prefixLength = 24): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 16 || prefixLength > 24)
    throw new RangeError(`randomPodSubnet: prefix length ${prefixLength} is not 16-24`);
  const b = randomBytes(2);
  // The third octet's host bits cleared, so the address is the network's own.
  const third = (b[1] ?? 0) & (0xff << (24 - prefixLength)) & 0xff;
  return `10.${128 + ((b[0] ?? 0) % 120)}.${third}.0/${prefixLength}`;
}

async function tail(path: string, lines = 40): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForSocket(info: ContainerdInstanceInfo, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!isAlive(info.pid))
      throw new ContainerdStartError('containerd exited during start-up', await tail(info.logFile));
    try {
      await run(info.ctr, ['--address', info.socketPath, 'version'], { timeout: 5000 });
      return;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ContainerdStartError(
    `containerd did not answer within ${timeoutMs} ms: ${lastError}`,
    await tail(info.logFile),
  );
}

/**
 * Start a private containerd (root, state, socket, CNI config and pod subnet all unique to this
 * call) inside a fresh network namespace, and optionally import the local pause/busybox images.
 * The CRI plugin's sandbox_image is the local pause image, so nothing is ever pulled.
 */
export async function startContainerd(opts: StartContainerdOptions = {}): Promise<RunningContainerd> {
  const binaries = containerdBinaries(resolveContainerdVersion(opts.version));
  const { version: runc, binary: runcPath } = chooseRunc(opts.runc, binaries.version);
  if (opts.sweepStale ?? process.env.NODEAGENT_SWEEP_STALE_CONTAINERD === '1') await sweepStaleInstances();
  const token = randomToken(4);
  const netns = `na-ctrd-${process.pid}-${token}`;
  const baseDir = opts.baseDir ?? (await mkdtemp(join(tmpdir(), 'na-ctrd-')));
  if (opts.baseDir) await mkdir(opts.baseDir, { recursive: true, mode: 0o700 });
  // Searchable by all (as containerd's own /run/containerd, 0711): the root of a user-namespaced
  // container is an unprivileged host ID, and runc 1.3 resolves the rootfs under the state dir as it.
  await chmod(baseDir, 0o711);
  const paths = containerdPaths(baseDir);
  const podSubnet = opts.podSubnet ?? randomPodSubnet();
  const netnsPath = `/var/run/netns/${netns}`;

  const info: ContainerdInstanceInfo = {
    endpoint: `unix://${paths.socketPath}`,
    socketPath: paths.socketPath,
    netns,
    netnsPath,
    baseDir,
    root: paths.root,
    state: paths.state,
    logFile: paths.logFile,
    podSubnet,
    pid: 0,
    version: binaries.version,
    ctr: binaries.ctr,
    runc,
  };

  try {
    // Before containerd runs: its containers' `/k8s.io` parent stays until stop() (parent-cgroup).
    await holdParentCgroup(netns);
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await mkdir(paths.cniConfDir, { recursive: true });
    await mkdir(paths.cniDataDir, { recursive: true });
    await mkdir(paths.cdiSpecDir, { recursive: true });
    await writeFile(
      join(paths.cniConfDir, '10-nodeagent.conflist'),
      renderCniConflist({
        networkName: `nodeagent-${token}`,
        bridgeName: `nabr${token.slice(0, 8)}`,
        podSubnet,
        dataDir: paths.cniDataDir,
      }),
    );
    const configPath = join(baseDir, 'config.toml');
    const render = binaries.version === '1.6' ? renderContainerdConfig : renderContainerdConfigV3;
    await writeFile(
      configPath,
      render({
        paths,
        sandboxImage: PAUSE_IMAGE,
        cniBinDir: opts.cniBinDir ?? '/usr/lib/cni',
        logLevel: opts.logLevel ?? 'info',
        runcBinary: runcPath,
      }),
    );

    // nsenter, not `ip netns exec`: the latter remounts /sys, which hides the cgroup mounts runc needs.
    const logFd = openSync(paths.logFile, 'a');
    const child = spawn('nsenter', [`--net=${netnsPath}`, binaries.containerd, '--config', configPath], {
      stdio: ['ignore', logFd, logFd],
      detached: opts.detached ?? false,
      env: containerdEnv(binaries),
    });
    closeSync(logFd);
    if (!child.pid) throw new ContainerdStartError('could not spawn containerd', await tail(paths.logFile));
    info.pid = child.pid;
    await register(info, opts.detached ?? false);
    // Never keep the test process alive just for containerd; stop() ends it explicitly.
    child.unref();

    await waitForSocket(info, opts.startTimeoutMs ?? 20_000);

    if (opts.images ?? true) {
      const images = await buildImages();
      await importImages(paths.socketPath, [images.pause, images.busybox]);
      info.images = images;
    }
    await writeFile(join(baseDir, 'instance.json'), JSON.stringify(info, null, 2));
  } catch (e) {
    await stopContainerdInstance(info);
    throw e;
  }

  let stopped: Promise<void> | undefined;
  return {
    ...info,
    stop: () => {
      stopped ??= stopContainerdInstance(info);
      return stopped;
    },
  };
}

/** containerd finds its shim on PATH: the unpacked version's bin dir goes first. */
function containerdEnv(binaries: ContainerdBinaries): NodeJS.ProcessEnv {
  if (!binaries.binDir) return process.env;
  return {
    ...process.env,
    PATH: `${binaries.binDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
  };
}

async function podNetnsPaths(state: string): Promise<string[]> {
  const dir = join(state, 'io.containerd.grpc.v1.cri', 'netns');
  const alt = join(state, 'netns');
  const out: string[] = [];
  for (const d of [dir, alt]) {
    try {
      for (const f of await readdir(d)) out.push(join(d, f));
    } catch {
      // none created
    }
  }
  return out;
}

async function ctrTasks(ctr: string, socketPath: string): Promise<string[]> {
  try {
    const { stdout } = await run(ctr, ['--address', socketPath, '-n', 'k8s.io', 'tasks', 'ls', '-q'], {
      timeout: 5000,
    });
    return stdout.split('\n').filter((l) => l.trim().length > 0);
  } catch {
    return [];
  }
}

/**
 * Tear down a private containerd from its recorded info: kill its tasks, stop containerd, kill
 * anything left in its namespaces (shims, containers) and in its containers' cgroups, remove those
 * cgroups and the `/k8s.io` parent when private instances made it and none still holds it, unmount what it mounted under its temp dir, and delete the netns and the temp dir. Safe
 * to call on a half-started instance.
 */
export async function stopContainerdInstance(info: ContainerdInstanceInfo): Promise<void> {
  const ctr = info.ctr ?? 'ctr';
  if (info.pid && isAlive(info.pid)) {
    // Let the shims reap their containers (and runc delete their cgroups) while containerd is up.
    for (const id of await ctrTasks(ctr, info.socketPath)) {
      await run(ctr, ['--address', info.socketPath, '-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id], {
        timeout: 5000,
      }).catch(() => undefined);
    }
    for (const id of await ctrTasks(ctr, info.socketPath)) {
      await run(ctr, ['--address', info.socketPath, '-n', 'k8s.io', 'tasks', 'delete', '--force', id], {
        timeout: 5000,
      }).catch(() => undefined);
    }
  }
  const namespaces = await netnsInodes([info.netnsPath, ...(await podNetnsPaths(info.state))]);
  if (info.pid) {
    killQuietly(info.pid, 'SIGTERM');
    if (!(await waitForExit([info.pid], 5000))) killQuietly(info.pid, 'SIGKILL');
    await waitForExit([info.pid], 2000);
  }
  const leftovers = await pidsInNetns(namespaces);
  await killAndWait(leftovers, 5000);
  await removeLeftoverCgroups(info.state);
  // Whatever it fails on, the teardown goes on: the leak check names a parent left behind.
  await releaseParentCgroup(info.netns).catch(() => undefined);
  await unmountAllUnder(info.baseDir);
  await run('ip', ['netns', 'delete', info.netns]).catch(() => undefined);
  await rm(info.baseDir, { recursive: true, force: true }).catch(() => undefined);
  await unregister(info.netns);
}

/**
 * Tear down instances whose owning process died without calling stop() (see instance-registry),
 * optionally only those with the given netns names; without `only`, also remove the names such
 * instances left in /run/netns with no registry entry (see orphan-netns). Returns the netns names
 * it cleaned up.
 */
export async function sweepStaleInstances(opts: { only?: string[] } = {}): Promise<string[]> {
  const swept: string[] = [];
  for (const entry of await staleEntries<ContainerdInstanceInfo>()) {
    if (opts.only && !opts.only.includes(entry.info.netns)) continue;
    await stopContainerdInstance(entry.info);
    swept.push(entry.info.netns);
  }
  if (!opts.only) swept.push(...(await sweepOrphanNetnsNames({ registryDir: REGISTRY_DIR })));
  return swept;
}

/**
 * Lets the private containerd in `baseDir` pull from `host` (`127.0.0.1:<port>`, e.g. a
 * tools/registry instance in its network namespace) over plain HTTP. Takes effect on the next pull.
 */
export async function allowPlainHttpRegistry(baseDir: string, host: string): Promise<void> {
  const dir = join(containerdPaths(baseDir).registryHostsDir, host);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'hosts.toml'), renderPlainHttpRegistryHost(host));
}

/** Read `<baseDir>/instance.json` written by startContainerd. */
export async function readInstanceInfo(baseDir: string): Promise<ContainerdInstanceInfo> {
  return JSON.parse(await readFile(join(baseDir, 'instance.json'), 'utf8')) as ContainerdInstanceInfo;
}
