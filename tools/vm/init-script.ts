import { type GuestInit, systemdHandOver } from './systemd-boot';

/**
 * The guest kernel's modules are unpacked at `dir` on the host (not installed): the guest's
 * modprobe finds them at /lib/modules through a bind mount. Where the read-only shared root has no
 * /lib/modules to mount on (a host without an installed kernel), /usr/lib gets a tmpfs overlay
 * first, as /tmp and /var do below, so the mount point can be made.
 */
function modulesMount(dir: string): string {
  return `if [ ! -d /newroot/usr/lib/modules ]; then
  mkdir -p /newroot/run/lib-overlay
  mount -t tmpfs lib-overlay /newroot/run/lib-overlay
  mkdir -p /newroot/run/lib-overlay/upper /newroot/run/lib-overlay/work
  mount -t overlay -o lowerdir=/newroot/usr/lib,upperdir=/newroot/run/lib-overlay/upper,workdir=/newroot/run/lib-overlay/work lib /newroot/usr/lib || fail "cannot mount the /usr/lib overlay"
  mkdir -p /newroot/usr/lib/modules
fi
mount --bind /newroot${dir} /newroot/usr/lib/modules || fail "cannot bind the guest kernel's modules"
`;
}

/**
 * The initramfs `/init` (busybox sh). It loads the virtio-mmio + virtiofs + overlay modules, mounts
 * the host's root (read-only, tag `root`), gives the guest writable /tmp and /var (overlays on the
 * host's) and /run, mounts the
 * per-run I/O share (tag `io`) at /run/vmio and switch_roots into the host's root to run
 * /run/vmio/run.sh with the host's own /bin/sh (or, with `init` systemd, the host's systemd, which
 * runs it: systemd-boot.ts).
 */
export function initScript(
  modules: readonly string[],
  guestModulesDir?: string,
  init: GuestInit = 'sh',
): string {
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
fail() { echo "vm-init: $*"; echo b > /proc/sysrq-trigger; }
for m in ${modules.join(' ')}; do insmod /mods/$m.ko || fail "insmod $m"; done
mount -t virtiofs -o ro root /newroot || fail "cannot mount the shared root"
mount -t tmpfs -o mode=755 run /newroot/run
${guestModulesDir ? modulesMount(guestModulesDir) : ''}mkdir -p /newroot/run/vmio
# /tmp and /var: the host's contents (read-only) under a tmpfs the guest writes to. /tmp keeps the
# host's files visible because a checkout (CI clones one there) may live under it.
for d in tmp var; do
  mkdir -p /newroot/run/$d-overlay
  mount -t tmpfs $d-overlay /newroot/run/$d-overlay
  mkdir -p /newroot/run/$d-overlay/upper /newroot/run/$d-overlay/work
  mount -t overlay -o lowerdir=/newroot/$d,upperdir=/newroot/run/$d-overlay/upper,workdir=/newroot/run/$d-overlay/work $d /newroot/$d || fail "cannot mount /$d overlay"
done
chmod 1777 /newroot/tmp
mount -t virtiofs io /newroot/run/vmio || fail "cannot mount the io share"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
${init === 'systemd' ? systemdHandOver() : 'exec switch_root /newroot /bin/sh /run/vmio/run.sh\n'}`;
}
