/** Everything that must be unique to one private containerd: all of it lives under `baseDir`. */
export interface ContainerdPaths {
  baseDir: string;
  root: string;
  state: string;
  socketPath: string;
  cniConfDir: string;
  cniDataDir: string;
  logFile: string;
  /** The CRI registry `config_path`: `<host:port>/hosts.toml` files, read by containerd on each pull. */
  registryHostsDir: string;
  /**
   * 2.x's CDI `cdi_spec_dirs`: the instance's own, not the machine's /etc/cdi and /var/run/cdi
   * (the defaults), so DRA drivers under test write specs only here.
   */
  cdiSpecDir: string;
}

export function containerdPaths(baseDir: string): ContainerdPaths {
  return {
    baseDir,
    root: `${baseDir}/root`,
    state: `${baseDir}/state`,
    socketPath: `${baseDir}/containerd.sock`,
    cniConfDir: `${baseDir}/cni/net.d`,
    cniDataDir: `${baseDir}/cni/ipam`,
    logFile: `${baseDir}/containerd.log`,
    registryHostsDir: `${baseDir}/certs.d`,
    cdiSpecDir: `${baseDir}/cdi`,
  };
}

export interface ContainerdConfigInput {
  paths: ContainerdPaths;
  sandboxImage: string;
  cniBinDir: string;
  logLevel: string;
  /** The runc shim's `BinaryName` (an unpacked runc); undefined: `runc` from PATH. */
  runcBinary?: string;
  /**
   * runc's cgroup driver: systemd (slices and scopes through systemd, for a kubelet with
   * cgroupDriver systemd; needs systemd as PID 1) or cgroupfs. Default: NODEAGENT_CONTAINERD_SYSTEMD_CGROUP=1
   * chooses systemd, else cgroupfs.
   */
  systemdCgroup?: boolean;
}

/** The runc shim's options table body: the cgroup driver, and the runc binary when not PATH's. */
export function runcOptionLines(c: ContainerdConfigInput, indent: string): string {
  const systemd = c.systemdCgroup ?? process.env.NODEAGENT_CONTAINERD_SYSTEMD_CGROUP === '1';
  const lines = [`SystemdCgroup = ${systemd}`];
  if (c.runcBinary) lines.push(`BinaryName = ${JSON.stringify(c.runcBinary)}`);
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/**
 * The top of both config versions: this instance's own root, state, sockets, opt dir and log
 * level, and the plugins it switches off (snapshotters this machine has no use for, and the
 * tracing exporter, which would try to reach a collector).
 */
export function instanceSections(
  c: ContainerdConfigInput,
  version: 2 | 3,
  disabledSnapshotters: readonly string[],
): string {
  const p = c.paths;
  const q = (s: string) => JSON.stringify(s);
  const disabled = [
    ...disabledSnapshotters.map((name) => `io.containerd.snapshotter.v1.${name}`),
    'io.containerd.tracing.processor.v1.otlp',
  ];
  return `version = ${version}
root = ${q(p.root)}
state = ${q(p.state)}
disabled_plugins = [
${disabled.map((name) => `  ${q(name)},`).join('\n')}
]

[grpc]
  address = ${q(p.socketPath)}

[ttrpc]
  address = ${q(`${p.socketPath}.ttrpc`)}

[debug]
  level = ${q(c.logLevel)}

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(`${p.baseDir}/opt`)}`;
}

/**
 * The CRI streaming server's port (exec, attach, port-forward), containerd's own default. Fixed and
 * below the kernel's ephemeral range: each instance has a network namespace of its own, and a port
 * the kernel picked there could be the one the host's API server was given, which a relay in the
 * namespace must listen on (the demo's nodes reach the API server that way).
 */
export const STREAM_SERVER_PORT = 10010;

/**
 * containerd 1.6 config (version 2). Notes on the non-default settings:
 * - restrict_oom_score_adj: this machine refuses negative oom_score_adj, and the CRI plugin would
 *   otherwise copy containerd's own (negative) score into containers.
 * - netns_mounts_under_state_dir: pod network namespaces are bind-mounted under our state dir
 *   instead of the host's /var/run/netns, so nothing leaks into `ip netns list`.
 * - the opt plugin path and the ttrpc socket are moved under baseDir, so two instances never share
 *   a file.
 * - registry config_path: per-host settings (a test registry on plain HTTP, see
 *   renderPlainHttpRegistryHost) come from files under baseDir; empty, every host keeps the defaults.
 * - the streaming server listens on STREAM_SERVER_PORT.
 */
export function renderContainerdConfig(c: ContainerdConfigInput): string {
  const p = c.paths;
  const q = (s: string) => JSON.stringify(s);
  return `${instanceSections(c, 2, ['aufs', 'btrfs', 'zfs', 'devmapper'])}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(c.sandboxImage)}
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "${STREAM_SERVER_PORT}"
  enable_selinux = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ${q(p.registryHostsDir)}

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(c.cniBinDir)}
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
${runcOptionLines(c, '        ')}
`;
}

/**
 * hosts.toml for `<registryHostsDir>/<host>/`: containerd talks to `host` (e.g. `127.0.0.1:41234`)
 * over plain HTTP, for pulls and resolves. Credentials still come from the CRI PullImage request.
 */
export function renderPlainHttpRegistryHost(host: string): string {
  const url = JSON.stringify(`http://${host}`);
  return `server = ${url}

[host.${url}]
  capabilities = ["pull", "resolve"]
`;
}

export interface CniConfigInput {
  networkName: string;
  bridgeName: string;
  podSubnet: string;
  dataDir: string;
}

/** A bridge + host-local network; the CRI plugin adds the loopback plugin itself. */
export function renderCniConflist(c: CniConfigInput): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: c.networkName,
      plugins: [
        {
          type: 'bridge',
          bridge: c.bridgeName,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: c.dataDir,
            ranges: [[{ subnet: c.podSubnet }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
      ],
    },
    null,
    2,
  );
}
