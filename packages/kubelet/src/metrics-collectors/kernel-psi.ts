import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether the kernel accounts pressure stall information, the test upstream v1.36's kubelet makes
 * once (pkg/kubelet/cadvisor IsPsiEnabled, asked by server.go InstallAuthNotRequiredHandlers)
 * before adding cAdvisor's PressureMetrics to /metrics/cadvisor: the /proc/pressure directory
 * exists and the kernel command line does not switch PSI off, the last `psi=` word winning
 * (upstream's TestIsPsiEnabled: `psi=0` off, `psi=0 psi=1` on, `psi=1 psi=0` off). It asks
 * nothing of the cgroup version: a cgroup v1 host with a PSI kernel gets the metrics too.
 */
export function kernelPsiEnabled(pressureDirExists: boolean, cmdline: string): boolean {
  if (!pressureDirExists) return false;
  const settings = cmdline.split(/\s+/).filter((word) => word.startsWith('psi='));
  return settings.at(-1) !== 'psi=0';
}

let host: boolean | undefined;

/** {@link kernelPsiEnabled} for this host, read once per process as upstream reads it once per server. */
export function hostKernelPsiEnabled(): boolean {
  host ??= kernelPsiEnabled(existsSync('/proc/pressure'), readCmdline());
  return host;
}

function readCmdline(): string {
  try {
    return readFileSync('/proc/cmdline', 'utf8');
  } catch {
    // No /proc/cmdline (not Linux): nothing on it switches PSI off; /proc/pressure decides.
    return '';
  }
}
