/**
 * Which kernel namespace isolates a sysctl (upstream component-helpers NamespacedBy): only those
 * may be set per pod, and those of a namespace the pod shares with the host may not be set at all.
 */
export type SysctlNamespace = 'ipc' | 'net';

const exactNamespaces: ReadonlyMap<string, SysctlNamespace> = new Map([['kernel.sem', 'ipc']]);

const prefixNamespaces: ReadonlyArray<readonly [string, SysctlNamespace]> = [
  ['kernel.shm', 'ipc'],
  ['kernel.msg', 'ipc'],
  ['fs.mqueue.', 'ipc'],
  ['net.', 'net'],
];

/** The namespace of a sysctl (dot-separated name), or undefined when it is not known to be namespaced. */
export function sysctlNamespace(name: string): SysctlNamespace | undefined {
  const exact = exactNamespaces.get(name);
  if (exact) return exact;
  return prefixNamespaces.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/**
 * sysctl(8) also accepts '/' as the separator; when the first separator is a '/', dots and slashes
 * swap roles ("net/ipv4/conf/eno2.100/rp_filter" is "net.ipv4.conf.eno2/100.rp_filter"). Upstream
 * converts names this way before every check, so both spellings are judged alike.
 */
export function sysctlNameWithDots(name: string): string {
  const first = name.search(/[./]/);
  if (first === -1 || name[first] === '.') return name;
  return name.replace(/[./]/g, (separator) => (separator === '.' ? '/' : '.'));
}
