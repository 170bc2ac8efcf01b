import { type CgroupFilesystem, defaultCgroupMountRoot, detectCgroupFilesystem } from './cgroup-filesystem';
import type { CgroupDriverName } from './cgroup-name';
import { SystemdCgroupFilesystem } from './systemd-cgroup-filesystem';
import { connectSystemd, type SystemdLocation } from './systemd-dbus';

/** Where driverCgroupFilesystem finds the cgroup mount and, for the systemd driver, systemd. */
export interface DriverCgroupFilesystemOptions {
  /** The cgroup filesystem's mount point; default /sys/fs/cgroup. */
  mountRoot?: string;
  /** Where systemd is looked for (tests); default /run/systemd/system and its two D-Bus sockets. */
  systemd?: SystemdLocation;
}

/**
 * The cgroup filesystem for KubeletConfiguration.cgroupDriver: cgroupfs writes the hierarchy
 * directly; systemd creates and removes slices through systemd's D-Bus API and refuses to start
 * (SystemdNotRunningError, upstream's message) where systemd is not PID 1.
 */
export async function driverCgroupFilesystem(
  driver: CgroupDriverName,
  options: DriverCgroupFilesystemOptions = {},
): Promise<CgroupFilesystem> {
  const files = await detectCgroupFilesystem(options.mountRoot ?? defaultCgroupMountRoot);
  if (driver !== 'systemd') return files;
  return new SystemdCgroupFilesystem(files, await connectSystemd(options.systemd));
}
