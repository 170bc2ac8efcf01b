import {
  type ContainerdConfigInput,
  instanceSections,
  runcOptionLines,
  STREAM_SERVER_PORT,
} from './containerd-config';

/**
 * containerd 2.x config (version 3): the same settings as the 1.6 config (renderContainerdConfig),
 * under 2.x's split CRI plugins. Key names follow `containerd config default` of 2.1:
 * - io.containerd.cri.v1.images: snapshotter, the sandbox image (pinned_images.sandbox, 1.6's
 *   sandbox_image), registry.config_path;
 * - io.containerd.cri.v1.runtime: restrict_oom_score_adj, netns_mounts_under_state_dir, SELinux,
 *   log line size, runtimes, and CNI with `bin_dirs` (2.1 deprecates `bin_dir`);
 * - io.containerd.grpc.v1.cri: only the streaming server now.
 * New in 2.x and switched off: NRI (on by default since 2.0), whose socket
 * /var/run/nri/nri.sock is one per machine and would be shared by every instance. CDI (on by
 * default since 2.0) reads the instance's own spec directory instead of the machine's.
 */
export function renderContainerdConfigV3(c: ContainerdConfigInput): string {
  const p = c.paths;
  const q = (s: string) => JSON.stringify(s);
  // 2.x has no aufs snapshotter to switch off.
  return `${instanceSections(c, 3, ['btrfs', 'zfs', 'devmapper'])}

[plugins."io.containerd.nri.v1.nri"]
  disable = true

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${q(c.sandboxImage)}

  [plugins."io.containerd.cri.v1.images".registry]
    config_path = ${q(p.registryHostsDir)}

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  max_container_log_line_size = 16384
  enable_cdi = true
  cdi_spec_dirs = [${q(p.cdiSpecDir)}]

  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${q(c.cniBinDir)}]
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1

  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"

    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
${runcOptionLines(c, '        ')}

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "${STREAM_SERVER_PORT}"
`;
}
