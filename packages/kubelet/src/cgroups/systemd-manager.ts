import type { DbusVariant } from './dbus-marshal';

/** A unit property as systemd's D-Bus API takes it: (name, variant). */
export interface UnitProperty {
  name: string;
  value: DbusVariant;
}

/**
 * The calls on systemd's manager (org.freedesktop.systemd1.Manager at /org/freedesktop/systemd1)
 * that the systemd cgroup driver makes, as libcontainer's systemd manager does through go-systemd.
 * The D-Bus client implements it (systemd-dbus.ts); unit tests pass a recording fake.
 */
export interface SystemdManager {
  /**
   * StartTransientUnit(name, mode, properties, aux=[]): resolves with the result of the job it
   * queued ("done", "failed", "canceled", ...); rejects with the D-Bus error, e.g.
   * org.freedesktop.systemd1.UnitExists for a unit already loaded.
   */
  startTransientUnit(name: string, mode: 'replace', properties: readonly UnitProperty[]): Promise<string>;
  /** StopUnit(name, mode): resolves with the job's result; rejects with e.g. NoSuchUnit. */
  stopUnit(name: string, mode: 'replace'): Promise<string>;
  /** ResetFailedUnit(name): forget a failed unit so systemd can unload it. */
  resetFailedUnit(name: string): Promise<void>;
  /** SetUnitProperties(name, runtime, properties): applies (and, runtime, does not persist) the properties. */
  setUnitProperties(name: string, runtime: boolean, properties: readonly UnitProperty[]): Promise<void>;
  /** The Manager's Version property as a number ("252.38-1~deb12u1" → 252), -1 when unparsable. */
  version(): Promise<number>;
}

/** The D-Bus error name systemd answers StartTransientUnit with when the unit is already there. */
export const unitExistsError = 'org.freedesktop.systemd1.UnitExists';

/** Upstream systemdVersionAtoi: the leading number of "v245.4-1.fc32", "252.38-1~deb12u1"... */
export function parseSystemdVersion(text: string): number {
  const match = /^\d+/.exec(text.replace(/^["v]+/, ''));
  return match ? Number(match[0]) : -1;
}
