import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VmPrerequisiteError } from './errors';

/**
 * Where tools/install-deps.mjs unpacks Debian's cloud kernel (`apt-get download` + `dpkg-deb -x`):
 * `<dir>/boot/vmlinuz-<version>` and `<dir>/lib/modules/<version>`. Unpacked, not installed, so a
 * test run never puts a bootable kernel (and the initramfs tooling that comes with one) on the host.
 */
export const GUEST_KERNEL_CACHE = '/var/cache/nodeagent/guest-kernel';

export interface GuestKernel {
  /** e.g. `6.1.0-56-cloud-amd64` */
  version: string;
  /** `<root>/boot/vmlinuz-<version>` */
  image: string;
  /** The tree the kernel came from: GUEST_KERNEL_CACHE, or `/` for an installed kernel. */
  root: string;
  /** `<root>/lib/modules/<version>` */
  modulesDir: string;
}

/**
 * Debian's cloud kernel: unlike the host's kernel it ships the `ip_vs` modules, and it is small
 * enough to boot in ~2 s under TCG. The newest one in the first root that has one wins: the
 * unpacked copy in GUEST_KERNEL_CACHE, else one installed in /boot.
 */
export function findGuestKernel(roots: readonly string[] = [GUEST_KERNEL_CACHE, '/']): GuestKernel {
  for (const root of roots) {
    const bootDir = join(root, 'boot');
    if (!existsSync(bootDir)) continue;
    const versions = readdirSync(bootDir)
      .filter((f) => /^vmlinuz-.*-cloud-amd64$/.test(f))
      .map((f) => f.slice('vmlinuz-'.length))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const version = versions.at(-1);
    if (!version) continue;
    const modulesDir = join(root, 'lib', 'modules', version);
    if (!existsSync(modulesDir)) throw new VmPrerequisiteError('kernel modules', modulesDir, 'missing');
    return { version, image: join(bootDir, `vmlinuz-${version}`), root, modulesDir };
  }
  throw new VmPrerequisiteError(
    'kernel',
    roots.map((r) => join(r, 'boot', 'vmlinuz-*-cloud-amd64')).join(' or '),
    'not found (run: node tools/install-deps.mjs, which unpacks it there)',
  );
}

/**
 * The host TSC frequency in kHz. Passed to the guest as `tsc_early_khz=` because under TCG the
 * guest's own calibration sometimes hangs (about one boot in six without it).
 */
export function hostTscKhz(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): number {
  const m = /^cpu MHz\s*:\s*([0-9.]+)/m.exec(cpuinfo);
  if (!m?.[1]) throw new VmPrerequisiteError('/proc/cpuinfo', 'cpu MHz', 'no CPU frequency line');
  return Math.round(Number.parseFloat(m[1]) * 1000);
}

/**
 * `/dev/kvm` may be a paravirtual "pagetable VM" (kvm_pvm) that cannot run an unmodified kernel,
 * so hardware acceleration is used only when the real Intel/AMD module is loaded.
 */
export function hardwareKvmAvailable(): boolean {
  return existsSync('/dev/kvm') && (existsSync('/sys/module/kvm_intel') || existsSync('/sys/module/kvm_amd'));
}
