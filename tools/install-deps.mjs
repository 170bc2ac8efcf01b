#!/usr/bin/env node
// Installs the Debian packages that the real-component tests, benchmarks and the demo need.
// Idempotent: it asks dpkg first and calls apt only for what is missing. Needs root for apt;
// without root it names the missing packages and the command to install them, and exits 1.
import { execFileSync, spawnSync } from 'node:child_process';

/** Debian package → why nodeagent needs it. */
export const systemPackages = {
  containerd: 'real CRI runtime for cri-client and kubelet tests',
  runc: 'OCI runtime used by containerd',
  'containernetworking-plugins': 'CNI bridge, host-local and loopback plugins for pod networking',
  'busybox-static': 'the static binary our local OCI images are built from',
  iproute2: 'ip netns, veth pairs and addresses for network-namespace tests',
  iptables: 'iptables-restore / iptables-save for the netfilter package and kube-proxy',
  nftables: 'nft for the netfilter package and kube-proxy nftables mode',
  ipset: 'ipset for kube-proxy ipvs mode',
  conntrack: 'conntrack tool for UDP stale-entry cleanup',
  ipvsadm: 'cross-checks of the ipvs package inside the micro-VM',
  'qemu-system-x86': 'the micro-VM that runs IPVS tests on a kernel with ip_vs',
  'linux-image-cloud-amd64': "Debian's cloud kernel, which ships the ip_vs modules",
  kmod: 'modprobe inside the micro-VM',
  cpio: 'packing the micro-VM initramfs',
  systemd: 'systemd-analyze, which checks the units in deploy/systemd',
  python3: 'raw-socket SCTP packets in the kube-proxy nftables packet tests (Node has no raw sockets)',
  gcc: "compiles the single executables' page-release addon (tools/sea/page-release)",
  'libc6-dev': 'C library headers for that addon',
};

function missingPackages() {
  return Object.keys(systemPackages).filter((name) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

const missing = missingPackages();
if (missing.length === 0) {
  console.log('install-deps: all system packages present');
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.error(`install-deps: missing Debian packages: ${missing.join(' ')}`);
  console.error(
    `install-deps: run as root, or: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
  );
  process.exit(1);
}
console.log(`install-deps: installing ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
  stdio: 'inherit',
  env,
});
const still = missingPackages();
if (still.length > 0) {
  console.error(`install-deps: still missing after apt-get: ${still.join(' ')}`);
  process.exit(1);
}
console.log('install-deps: done');
