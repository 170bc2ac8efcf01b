/** Everything that must be unique to one private containerd: all of it lives under `baseDir`. */
export interface ContainerdPaths {
  baseDir: string;
  root: string;
  state: string;
  socketPath: string;
  cniConfDir: string;
  cniDataDir: string;
  logFile: string;
}
export declare function containerdPaths(baseDir: string): ContainerdPaths;
export interface ContainerdConfigInput {
  paths: ContainerdPaths;
  sandboxImage: string;
  cniBinDir: string;
  logLevel: string;
}
/**
 * containerd 1.6 config (version 2). Notes on the non-default settings:
 * - restrict_oom_score_adj: this machine refuses negative oom_score_adj, and the CRI plugin would
 *   otherwise copy containerd's own (negative) score into containers.
 * - netns_mounts_under_state_dir: pod network namespaces are bind-mounted under our state dir
 *   instead of the host's /var/run/netns, so nothing leaks into `ip netns list`.
 * - the opt plugin path and the ttrpc socket are moved under baseDir, so two instances never share
 *   a file.
 */
export declare function renderContainerdConfig(c: ContainerdConfigInput): string;
export interface CniConfigInput {
  networkName: string;
  bridgeName: string;
  podSubnet: string;
  dataDir: string;
}
/** A bridge + host-local network; the CRI plugin adds the loopback plugin itself. */
export declare function renderCniConflist(c: CniConfigInput): string;
//# sourceMappingURL=containerd-config.d.ts.map
