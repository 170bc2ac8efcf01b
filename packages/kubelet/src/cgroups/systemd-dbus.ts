import { stat } from 'node:fs/promises';
import { KubeletError } from '../errors';
import { type DbusCall, DbusConnection, DbusConnectionError } from './dbus-connection';
import type { DbusValue, DbusVariant } from './dbus-marshal';
import type { DbusMessage } from './dbus-message';
import { parseSystemdVersion, type SystemdManager, type UnitProperty } from './systemd-manager';

const destination = 'org.freedesktop.systemd1';
const managerPath = '/org/freedesktop/systemd1';
const managerInterface = 'org.freedesktop.systemd1.Manager';

/** Where systemd is reached: the system bus first, then (as root) PID 1's private socket, as go-systemd does. */
export const systemBusSocket = '/run/dbus/system_bus_socket';
export const systemdPrivateSocket = '/run/systemd/private';
/** sd_booted(3): systemd creates this directory when it runs as PID 1. */
export const systemdRuntimeDir = '/run/systemd/system';

/** Upstream's words (libcontainer's cgroup manager) when the systemd driver is asked for without systemd. */
export const systemdNotRunningMessage =
  'systemd not running on this host, cannot use systemd cgroups manager';

const whatToDo =
  'run the kubelet on a host booted with systemd, or set cgroupDriver: cgroupfs in the kubelet configuration and in the runtime (containerd: SystemdCgroup = false)';

/** cgroupDriver is systemd but systemd is not PID 1 here: the kubelet does not start (as upstream). */
export class SystemdNotRunningError extends KubeletError {
  constructor(runtimeDir = systemdRuntimeDir) {
    super(
      'SYSTEMD_NOT_RUNNING',
      'cgroupDriver',
      'systemd',
      `${systemdNotRunningMessage} (${runtimeDir} is missing): ${whatToDo}`,
    );
  }
}

/** systemd runs, but neither of its D-Bus sockets answered. */
export class SystemdUnreachableError extends KubeletError {
  constructor(reasons: readonly string[]) {
    super(
      'SYSTEMD_UNREACHABLE',
      'cgroupDriver',
      'systemd',
      `cannot reach systemd over D-Bus (${reasons.join('; ')}): start dbus or run as root (for ${systemdPrivateSocket}), or ${whatToDo.replace(/^run the kubelet on a host booted with systemd, or /, '')}`,
    );
  }
}

/** systemd did not finish a job in time (libcontainer gives up after 30 s as well). */
export class SystemdJobTimeoutError extends Error {
  constructor(readonly job: string) {
    super(`timed out waiting for systemd job ${job}`);
    this.name = 'SystemdJobTimeoutError';
  }
}

/** How many finished jobs are remembered for a caller whose reply arrived after the signal. */
const rememberedJobs = 256;

/**
 * systemd's manager over D-Bus. Each start/stop queues a job; its end comes as the manager's
 * JobRemoved signal (after Subscribe), which may even arrive in the same read as the call's reply,
 * so finished jobs are remembered briefly. A connection that closes is opened again once, as
 * libcontainer's retryOnDisconnect does.
 */
export class DbusSystemdManager implements SystemdManager {
  private connection: Promise<DbusConnection> | undefined;
  private readonly finished = new Map<string, string>();
  private readonly waiters = new Map<string, (result: string) => void>();
  private versionNumber: Promise<number> | undefined;

  constructor(
    private readonly open: () => Promise<DbusConnection>,
    /** How long a start or stop job may take (libcontainer waits 30 s). */
    private readonly jobTimeoutMs = 30_000,
  ) {}

  private connect(): Promise<DbusConnection> {
    if (this.connection) return this.connection;
    const opening = this.open().then(async (connection) => {
      connection.onSignal((message) => this.onSignal(message));
      await connection.call(managerCall('Subscribe'));
      return connection;
    });
    // A failed open is not kept: the next call tries again.
    opening.catch(() => {
      if (this.connection === opening) this.connection = undefined;
    });
    this.connection = opening;
    return opening;
  }

  private onSignal(message: DbusMessage): void {
    if (message.interface !== managerInterface || message.member !== 'JobRemoved') return;
    // JobRemoved(id, job, unit, result)
    const [, job, , result] = message.body as [number, string, string, string];
    const waiter = this.waiters.get(job);
    if (waiter) {
      this.waiters.delete(job);
      waiter(result);
      return;
    }
    this.finished.set(job, result);
    if (this.finished.size > rememberedJobs)
      this.finished.delete(this.finished.keys().next().value as string);
  }

  private async call(call: DbusCall): Promise<DbusValue[]> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.connect();
      try {
        return await connection.call(call);
      } catch (error) {
        if (!(error instanceof DbusConnectionError) || attempt > 0) throw error;
        this.connection = undefined;
      }
    }
  }

  /** Calls a job-queueing method and waits for the job's JobRemoved (at most jobTimeoutMs). */
  private async callJob(call: DbusCall): Promise<string> {
    const connection = await this.connect();
    const release = connection.hold();
    let timer: NodeJS.Timeout | undefined;
    let job = '';
    try {
      [job] = (await this.call(call)) as [string];
      const known = this.finished.get(job);
      if (known !== undefined) {
        this.finished.delete(job);
        return known;
      }
      return await new Promise<string>((resolve, reject) => {
        this.waiters.set(job, resolve);
        timer = setTimeout(() => reject(new SystemdJobTimeoutError(job)), this.jobTimeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(job);
      release();
    }
  }

  startTransientUnit(name: string, mode: 'replace', properties: readonly UnitProperty[]): Promise<string> {
    const props: DbusValue[] = properties.map((p) => [p.name, p.value]);
    return this.callJob(managerCall('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, mode, props, []]));
  }

  stopUnit(name: string, mode: 'replace'): Promise<string> {
    return this.callJob(managerCall('StopUnit', 'ss', [name, mode]));
  }

  async resetFailedUnit(name: string): Promise<void> {
    await this.call(managerCall('ResetFailedUnit', 's', [name]));
  }

  async setUnitProperties(
    name: string,
    runtime: boolean,
    properties: readonly UnitProperty[],
  ): Promise<void> {
    const props: DbusValue[] = properties.map((p) => [p.name, p.value]);
    await this.call(managerCall('SetUnitProperties', 'sba(sv)', [name, runtime, props]));
  }

  version(): Promise<number> {
    this.versionNumber ??= this.call({
      destination,
      path: managerPath,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [managerInterface, 'Version'],
    }).then(
      ([variant]) => parseSystemdVersion(String((variant as DbusVariant).value)),
      () => -1,
    );
    return this.versionNumber;
  }

  /** Closes the connection (the kubelet's stop). */
  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    (await connection?.catch(() => undefined))?.close();
  }
}

function managerCall(member: string, signature = '', body: DbusValue[] = []): DbusCall {
  return { destination, path: managerPath, interface: managerInterface, member, signature, body };
}

/** Where to look for systemd; tests point these at a temporary directory. */
export interface SystemdLocation {
  runtimeDir?: string;
  sockets?: readonly { path: string; bus: boolean }[];
}

/**
 * The systemd manager the systemd cgroup driver talks to. Refuses (SystemdNotRunningError, upstream's
 * message) when systemd is not PID 1; otherwise opens the first socket that answers.
 */
export async function connectSystemd(location: SystemdLocation = {}): Promise<DbusSystemdManager> {
  const runtimeDir = location.runtimeDir ?? systemdRuntimeDir;
  const booted = await stat(runtimeDir).then(
    (info) => info.isDirectory(),
    () => false,
  );
  if (!booted) throw new SystemdNotRunningError(runtimeDir);
  const sockets = location.sockets ?? [
    { path: systemBusSocket, bus: true },
    { path: systemdPrivateSocket, bus: false },
  ];
  const reasons: string[] = [];
  for (const socket of sockets) {
    try {
      let reuse: DbusConnection | undefined = await openSystemdConnection(socket);
      // The connection that proved the socket answers is the first one used.
      return new DbusSystemdManager(async () => {
        const connection = reuse ?? (await openSystemdConnection(socket));
        reuse = undefined;
        return connection;
      });
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  throw new SystemdUnreachableError(reasons);
}

/** On the system bus, the daemon forwards systemd's JobRemoved only to connections that asked for it. */
async function openSystemdConnection(socket: { path: string; bus: boolean }): Promise<DbusConnection> {
  const connection = await DbusConnection.open(socket.path, { bus: socket.bus });
  if (socket.bus)
    await connection.call({
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'AddMatch',
      signature: 's',
      body: [
        `type='signal',sender='${destination}',path='${managerPath}',interface='${managerInterface}',member='JobRemoved'`,
      ],
    });
  return connection;
}
