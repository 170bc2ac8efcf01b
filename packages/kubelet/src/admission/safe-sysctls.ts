import { release } from 'node:os';

/**
 * Upstream's safe sysctls (pkg/kubelet/sysctl/safe_sysctls.go, v1.34): namespaced and without
 * effect on other pods, so every pod may set them. Some are only namespaced from a kernel version
 * on (the kernel commit that moved them into the network namespace); on older kernels they would
 * change the whole node, so they are left out there.
 */
export const safeSysctls: ReadonlyArray<{ name: string; minKernel?: string }> = [
  { name: 'kernel.shm_rmid_forced' },
  { name: 'net.ipv4.ip_local_port_range' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.ping_group_range' },
  { name: 'net.ipv4.ip_unprivileged_port_start' },
  { name: 'net.ipv4.ip_local_reserved_ports', minKernel: '3.16' },
  { name: 'net.ipv4.tcp_keepalive_time', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_fin_timeout', minKernel: '4.6' },
  { name: 'net.ipv4.tcp_keepalive_intvl', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_keepalive_probes', minKernel: '4.5' },
  { name: 'net.ipv4.tcp_rmem', minKernel: '4.15' },
  { name: 'net.ipv4.tcp_wmem', minKernel: '4.15' },
];

/** Leading numeric components of a kernel release ("6.1.0-18-amd64" → [6, 1, 0]); undefined if none. */
export function parseKernelVersion(kernelRelease: string): number[] | undefined {
  const match = /^v?(\d+(?:\.\d+)*)/.exec(kernelRelease.trim());
  return match ? match[1]!.split('.').map(Number) : undefined;
}

function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const have = version[i] ?? 0;
    if (have !== minimum[i]) return have > minimum[i]!;
  }
  return true;
}

/**
 * The safe sysctls this kernel namespaces (upstream SafeSysctlAllowlist). A kernel release that
 * cannot be read keeps only the entries without a kernel condition, as upstream does.
 */
export function safeSysctlAllowlist(kernelRelease: string = release()): string[] {
  const version = parseKernelVersion(kernelRelease);
  return safeSysctls
    .filter(({ minKernel }) => {
      if (!minKernel) return true;
      return version !== undefined && atLeast(version, parseKernelVersion(minKernel)!);
    })
    .map(({ name }) => name);
}
