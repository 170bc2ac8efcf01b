import { closeSync } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemReason } from '@nodeagent/primitives';
import { DbusConnection } from '../cgroups/dbus-connection';
import type { DbusVariant } from '../cgroups/dbus-marshal';
import { logindInhibit } from './logind-inhibit-call';
import type { InhibitLock, LogindInhibitor, ShutdownWatch } from './logind-inhibitor';

/** godbus's default system bus address, which upstream's kubelet dials. */
export const systemBusPath = '/var/run/dbus/system_bus_socket';

/**
 * The system bus socket as godbus finds it: DBUS_SYSTEM_BUS_ADDRESS's first `unix:path=` address
 * when the variable is set, else {@link systemBusPath}.
 */
export function systemBusPathFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const address = env.DBUS_SYSTEM_BUS_ADDRESS;
  const path = address ? /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(address)?.[1] : undefined;
  return path ? decodeURIComponent(path) : systemBusPath;
}
/** Upstream logindConfigDirectory and kubeletLogindConf. */
export const logindConfigDirectory = '/etc/systemd/logind.conf.d/';
const kubeletLogindConf = '99-kubelet.conf';

const login1 = { destination: 'org.freedesktop.login1', path: '/org/freedesktop/login1' } as const;
const managerInterface = 'org.freedesktop.login1.Manager';

/** Where the adapter finds the bus and writes logind's drop-in (tests point both at a temp dir). */
export interface LogindDbusLocation {
  busPath?: string;
  configDirectory?: string;
  /** The uid the Inhibit connection authenticates as (default: this process's). */
  uid?: number;
}

/** Upstream's logind drop-in text for a delay, in whole seconds (`%.0f`). */
export function logindOverride(delayMs: number): string {
  return `# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=${Math.round(delayMs / 1000)}\n`;
}

/**
 * The LogindInhibitor over the system bus (upstream systemd.DBusCon): properties, KillUnit and
 * the PrepareForShutdown signal on one DbusConnection; Inhibit on a connection of its own that
 * can receive the lock's descriptor (logindInhibit).
 */
export class LogindDbus implements LogindInhibitor {
  private constructor(
    private readonly connection: DbusConnection,
    private readonly location: Required<LogindDbusLocation>,
  ) {}

  /** Upstream NewDBusCon: connects to the system bus; the dial error as Go prints it when there is none. */
  static async connect(location: LogindDbusLocation = {}): Promise<LogindDbus> {
    const resolved = {
      busPath: location.busPath ?? systemBusPathFromEnv(),
      configDirectory: location.configDirectory ?? logindConfigDirectory,
      uid: location.uid ?? process.getuid?.() ?? 0,
    };
    try {
      await access(resolved.busPath);
    } catch (error) {
      throw new Error(`dial unix ${resolved.busPath}: connect: ${systemReason(error)}`);
    }
    return new LogindDbus(await DbusConnection.open(resolved.busPath, { bus: true }), resolved);
  }

  async currentInhibitDelayMs(): Promise<number> {
    let value: DbusVariant;
    try {
      const [reply] = await this.connection.call({
        ...login1,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'Get',
        signature: 'ss',
        body: [managerInterface, 'InhibitDelayMaxUSec'],
      });
      value = reply as DbusVariant;
    } catch (error) {
      throw new Error(`failed reading InhibitDelayMaxUSec property from logind: ${(error as Error).message}`);
    }
    if (value.signature !== 't')
      throw new Error('InhibitDelayMaxUSec from logind is not a uint64 as expected');
    return Number(BigInt(value.value as bigint | number) / 1000n);
  }

  async overrideInhibitDelay(delayMs: number): Promise<void> {
    const dir = this.location.configDirectory;
    try {
      await mkdir(dir, { recursive: true, mode: 0o755 });
    } catch (error) {
      throw new Error(`failed creating ${dir} directory: ${systemReason(error)}`);
    }
    const path = join(dir, kubeletLogindConf);
    try {
      await writeFile(path, logindOverride(delayMs), { mode: 0o644 });
    } catch (error) {
      throw new Error(`failed writing logind shutdown inhibit override file ${path}: ${systemReason(error)}`);
    }
  }

  /** SIGHUP to systemd-logind through systemd's KillUnit, as upstream reloads logind.conf. */
  async reloadLogindConf(): Promise<void> {
    try {
      await this.connection.call({
        destination: 'org.freedesktop.systemd1',
        path: '/org/freedesktop/systemd1',
        interface: 'org.freedesktop.systemd1.Manager',
        member: 'KillUnit',
        signature: 'ssi',
        body: ['systemd-logind.service', 'all', 1],
      });
    } catch (error) {
      throw new Error(`unable to reload logind conf: ${(error as Error).message}`);
    }
  }

  async inhibitShutdown(): Promise<InhibitLock> {
    let fd: number;
    try {
      fd = await logindInhibit(this.location.busPath, this.location.uid);
    } catch (error) {
      throw new Error(`failed creating systemd inhibitor: ${(error as Error).message}`);
    }
    let open = true;
    return {
      release: () => {
        if (!open) return;
        open = false;
        closeSync(fd);
      },
    };
  }

  async monitorShutdown(
    onEvent: (shuttingDown: boolean) => void,
    onEnd: (error?: unknown) => void,
  ): Promise<ShutdownWatch> {
    // Listen before AddMatch: a signal may arrive in the same read as its reply.
    const stopListening = this.connection.onSignal((message) => {
      if (message.interface !== managerInterface || message.member !== 'PrepareForShutdown') return;
      // Upstream logs and skips a signal without a boolean.
      if (typeof message.body?.[0] === 'boolean') onEvent(message.body[0]);
    });
    // The watch keeps the process alive, as upstream's goroutine does.
    const letGo = this.connection.hold();
    const stopClose = this.connection.onClose((error) => {
      letGo();
      onEnd(error);
    });
    const stop = () => {
      stopClose();
      stopListening();
      letGo();
    };
    try {
      await this.connection.call({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'AddMatch',
        signature: 's',
        body: [
          `type='signal',path='${login1.path}',interface='${managerInterface}',member='PrepareForShutdown'`,
        ],
      });
    } catch (error) {
      stop();
      throw error;
    }
    return { stop };
  }

  close(): void {
    this.connection.close();
  }
}
