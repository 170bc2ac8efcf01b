import { describe, expect, it } from 'vitest';
import { GUEST_KERNEL_CACHE, kernelPackageOf, plannedUpgrades, systemPackages } from '../install-deps.mjs';
import { GUEST_KERNEL_CACHE as VM_KERNEL_CACHE } from '../vm/kernel';

describe('install-deps', () => {
  it("reads the upgrades out of apt-get's simulated install; new packages are not upgrades", () => {
    const simulation = [
      'NOTE: This is only a simulation!',
      'Inst libudev1 [252.30-1~deb12u2] (252.39-1~deb12u2 Debian:12.13/stable [amd64])',
      'Inst udev (252.39-1~deb12u2 Debian:12.13/stable [amd64])',
      'Inst systemd [252.30-1~deb12u2] (252.39-1~deb12u2 Debian:12.13/stable [amd64]) []',
      'Conf udev (252.39-1~deb12u2 Debian:12.13/stable [amd64])',
    ].join('\n');
    expect(plannedUpgrades(simulation)).toEqual([
      { name: 'libudev1', from: '252.30-1~deb12u2', to: '252.39-1~deb12u2' },
      { name: 'systemd', from: '252.30-1~deb12u2', to: '252.39-1~deb12u2' },
    ]);
    expect(plannedUpgrades('Inst containerd (1.6.20~ds1-1+deb12u3 Debian:12.13/stable [amd64])')).toEqual([]);
  });

  it('finds the kernel package behind the cloud-kernel metapackage', () => {
    expect(kernelPackageOf('linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n')).toBe(
      'linux-image-6.1.0-56-cloud-amd64',
    );
    expect(kernelPackageOf('linux-image-cloud-amd64\n')).toBeUndefined();
  });

  it('installs no kernel package: the micro-VM kernel is unpacked where tools/vm looks for it', () => {
    expect(Object.keys(systemPackages).filter((p) => p.startsWith('linux-image'))).toEqual([]);
    expect(GUEST_KERNEL_CACHE).toBe(VM_KERNEL_CACHE);
  });
});
