import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { VmPrerequisiteError } from './errors';

export interface GuestKernel {
  /** e.g. `6.1.0-56-cloud-amd64` */
  version: string;
  /** /boot/vmlinuz-<version> */
  image: string;
  /** /lib/modules/<version> */
  modulesDir: string;
}

/**
 * Debian's cloud kernel: unlike the host's kernel it ships the `ip_vs` modules, and it is small
 * enough to boot in ~2 s under TCG. The newest installed one wins.
 */
export function findGuestKernel(bootDir = '/boot'): GuestKernel {
  const versions = readdirSync(bootDir)
    .filter((f) => /^vmlinuz-.*-cloud-amd64$/.test(f))
    .map((f) => f.slice('vmlinuz-'.length))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (!version) {
    throw new VmPrerequisiteError(
      'kernel',
      `${bootDir}/vmlinuz-*-cloud-amd64`,
      'not found (apt install linux-image-cloud-amd64)',
    );
  }
  const modulesDir = `/lib/modules/${version}`;
  if (!existsSync(modulesDir)) {
    throw new VmPrerequisiteError('kernel modules', modulesDir, 'missing');
  }
  return { version, image: `${bootDir}/vmlinuz-${version}`, modulesDir };
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
