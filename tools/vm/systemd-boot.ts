/**
 * The guest's optional systemd boot (`runInVm({ init: 'systemd' })`): instead of running run.sh
 * as PID 1, the initramfs switch_roots into the host's /lib/systemd/systemd on cgroup v2, which
 * starts one service running run.sh and nothing else (not the host's enabled services: the
 * target below pulls in only that service, and the service has no default dependencies). The
 * units go to /run/systemd/system, the runtime unit directory, on the guest's own tmpfs /run.
 * run.sh ends the VM as before (sysrq reset once the exit status is written).
 */

/** Which PID 1 the guest runs after the initramfs: run.sh itself (the default) or systemd. */
export type GuestInit = 'sh' | 'systemd';

/** The target systemd starts instead of default.target. */
export const systemdTarget = 'nodeagent-vm.target';
/** The service that runs the command; the command's own cgroup is system.slice/<this>. */
export const systemdService = 'nodeagent-vm.service';

/**
 * systemd's own words on the kernel command line: the unit to start, cgroup v2 only (systemd
 * 252's default, said explicitly), no status lines on the console. The host's root has a
 * /.dockerenv, so systemd takes itself for a container ("Detected virtualization docker") and
 * reads its own argv instead of /proc/cmdline: the hand-over passes --unit and --show-status too.
 */
export const systemdKernelArgs = [
  `systemd.unit=${systemdTarget}`,
  'systemd.unified_cgroup_hierarchy=1',
  'systemd.show_status=0',
];

/**
 * A boot with systemd takes longer before run.sh starts than the plain one (generators, unit
 * loading over virtiofs): its own idle reference keeps the speed factor comparable.
 */
export const SYSTEMD_REFERENCE_BOOT_MS = 4000;

const service = `[Unit]
Description=tools/vm command (run.sh)
DefaultDependencies=no

[Service]
Type=exec
ExecStart=/bin/sh /run/vmio/run.sh
StandardInput=null
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
`;

const target = `[Unit]
Description=tools/vm: the command and nothing else
Requires=${systemdService}
AllowIsolate=yes
`;

/** Shell lines for the initramfs /init: write the units into the new root's /run, then hand over to systemd. */
export function systemdHandOver(): string {
  return `mkdir -p /newroot/run/systemd/system
cat > /newroot/run/systemd/system/${systemdService} <<'UNIT'
${service}UNIT
cat > /newroot/run/systemd/system/${systemdTarget} <<'UNIT'
${target}UNIT
[ -x /newroot/lib/systemd/systemd ] || fail "no /lib/systemd/systemd on the host (apt install systemd)"
exec switch_root /newroot /lib/systemd/systemd --unit=${systemdTarget} --show-status=0
`;
}
