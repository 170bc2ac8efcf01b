import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProxyMode } from './demo-options';

/** Binaries the real (containerd) show runs, and the Debian package that ships each. */
const realRuntimeTools: [string, string][] = [
  ['containerd', 'containerd'],
  ['runc', 'runc'],
  ['ctr', 'containerd'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['busybox', 'busybox-static'],
];

export interface PrerequisiteInputs {
  uid: number;
  /** Finds an executable on PATH (injected for tests). */
  which: (name: string) => string | undefined;
  exists: (path: string) => boolean;
}

export function systemPrerequisiteInputs(): PrerequisiteInputs {
  return {
    uid: process.getuid?.() ?? -1,
    which: (name) => {
      for (const dir of (process.env.PATH ?? '').split(delimiter)) {
        const candidate = join(dir, name);
        try {
          accessSync(candidate, constants.X_OK);
          return candidate;
        } catch {}
      }
      return undefined;
    },
    exists: (path) => {
      try {
        accessSync(path);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** What is missing for the real show, one readable line each; empty when everything is there. */
export function missingPrerequisites(inputs: PrerequisiteInputs, proxyMode: ProxyMode): string[] {
  const missing: string[] = [];
  if (inputs.uid !== 0) missing.push('root (network namespaces, containerd and netfilter need it; try sudo)');
  for (const [tool, pkg] of realRuntimeTools) {
    if (!inputs.which(tool)) missing.push(`${tool} (Debian package ${pkg})`);
  }
  const proxyTool = proxyMode === 'nftables' ? ['nft', 'nftables'] : ['iptables-restore', 'iptables'];
  if (!inputs.which(proxyTool[0] as string)) missing.push(`${proxyTool[0]} (Debian package ${proxyTool[1]})`);
  if (!inputs.exists('/usr/lib/cni/bridge'))
    missing.push('CNI plugins in /usr/lib/cni (Debian package containernetworking-plugins)');
  return missing;
}
