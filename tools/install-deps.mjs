#!/usr/bin/env node
// Installs the Debian packages that the real-component tests, benchmarks and the demo need, and
// unpacks (does not install) Debian's cloud kernel for the IPVS micro-VM and Debian unstable's
// containerd 2.1 for the real-containerd tier on 2.x (tools/containerd) with its runc 1.3 and C
// library (user namespaces on 2.1, tools/containerd/unstable-runc.mjs). Idempotent: it asks dpkg
// first and calls apt only for what is missing. It upgrades nothing: where apt's plan for the
// missing packages would upgrade an installed one, it names them and stops. Needs root for apt;
// without root it names the missing packages and the command to install them, and exits 1.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CONTAINERD_2_CACHE,
  CONTAINERD_2_SERIES,
  Containerd2FetchError,
  containerd2Present,
  unpackUnstableContainerd,
} from './containerd/unstable-containerd.mjs';
import { RuncFetchError, runcUnstablePresent, unpackUnstableRunc } from './containerd/unstable-runc.mjs';

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
  kmod: "depmod for the micro-VM's unpacked kernel, modprobe inside the micro-VM",
  cpio: 'packing the micro-VM initramfs',
  systemd: 'systemd-analyze, which checks the units in deploy/systemd',
  python3: 'raw-socket SCTP packets in the kube-proxy nftables packet tests (Node has no raw sockets)',
  'dbus-daemon':
    "a private D-Bus bus for the kubelet's graceful node shutdown tests (logind's inhibitor lock passed through a real daemon)",
  binutils: "strip, which drops the symbol tables from the single executables' Node runtime (tools/sea)",
  gcc: "compiles the single executables' source addon (tools/sea/external-source.c) against the embedded Node's headers",
  'docker-registry':
    'a private image registry on loopback for the credential-provider and verified-pull tests (tools/registry)',
  'apache2-utils': "htpasswd (bcrypt) for that registry's basic auth",
  time: "GNU time: the peak RSS of iptables-nft-restore in kube-proxy's iptables netlink bench",
  e2fsprogs: "mkfs.ext4 for the soak's journalled ext4 image (tools/soak/journalled-ext4.ts)",
  patchelf:
    "points Debian unstable's runc 1.3 (unpacked, for user namespaces) at unstable's C library unpacked beside it",
};

/** Where the micro-VM's kernel is unpacked (tools/vm/kernel.ts reads it from here). */
export const GUEST_KERNEL_CACHE = '/var/cache/nodeagent/guest-kernel';
/** The metapackage whose dependency names the current cloud kernel image package. */
const GUEST_KERNEL_META = 'linux-image-cloud-amd64';

/**
 * Installed packages that apt's simulated install (`apt-get -s install …`) would upgrade: its
 * `Inst name [installed version] (new version …)` lines; a new package has no bracketed version.
 */
export function plannedUpgrades(simulation) {
  const upgrades = [];
  for (const line of simulation.split('\n')) {
    const m = /^Inst (\S+) \[([^\]]+)\] \((\S+)/.exec(line);
    if (m) upgrades.push({ name: m[1], from: m[2], to: m[3] });
  }
  return upgrades;
}

/** The kernel image package the metapackage depends on, from `apt-cache depends` output. */
export function kernelPackageOf(depends) {
  return /Depends: (linux-image-\S+-cloud-amd64)\b/.exec(depends)?.[1];
}

function missingPackages() {
  return Object.keys(systemPackages).filter((name) => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

function guestKernelPresent() {
  const boot = join(GUEST_KERNEL_CACHE, 'boot');
  return existsSync(boot) && readdirSync(boot).some((f) => /^vmlinuz-.*-cloud-amd64$/.test(f));
}

const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
let aptUpdated = false;
function aptUpdate() {
  if (aptUpdated) return;
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env: aptEnv });
  aptUpdated = true;
}

function installPackages(missing) {
  console.log('install-deps: installing these missing Debian packages:');
  for (const name of missing) console.log(`  ${name}: ${systemPackages[name]}`);
  aptUpdate();
  const args = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  const plan = execFileSync('apt-get', ['-s', ...args], { encoding: 'utf8', env: aptEnv });
  const upgrades = plannedUpgrades(plan);
  if (upgrades.length > 0) {
    console.error(
      'install-deps: installing them would upgrade packages this machine has; nothing was changed:',
    );
    for (const u of upgrades) console.error(`  ${u.name} ${u.from} -> ${u.to}`);
    console.error(`install-deps: to accept that, run: apt-get ${args.join(' ')}`);
    process.exit(1);
  }
  execFileSync('apt-get', args, { stdio: 'inherit', env: aptEnv });
  if (missing.includes('docker-registry')) disableRegistryService();
  const still = missingPackages();
  if (still.length > 0) {
    console.error(`install-deps: still missing after apt-get: ${still.join(' ')}`);
    process.exit(1);
  }
}

/**
 * Debian's docker-registry package enables (and, where systemd runs, starts) a registry on :5000
 * for the whole machine. The tests start their own on loopback in a network namespace, so the
 * machine-wide service is switched off again: `--now` stops it where systemd is running, plain
 * `disable` only removes the boot-time link elsewhere (a container without systemd).
 */
function disableRegistryService() {
  const systemdRunning = existsSync('/run/systemd/system');
  const args = ['disable', ...(systemdRunning ? ['--now'] : []), 'docker-registry.service'];
  const r = spawnSync('systemctl', args, { stdio: 'inherit' });
  if (r.status !== 0)
    console.error(`install-deps: systemctl ${args.join(' ')} failed; the tests do not need it`);
}

/**
 * Debian's cloud kernel (it ships the ip_vs modules the host kernel lacks), downloaded with
 * `apt-get download` and unpacked with `dpkg-deb -x`: a kernel installed the usual way would become
 * a boot entry of this machine and pull initramfs-tools and udev (whose exact-version dependencies
 * upgrade systemd). depmod indexes the unpacked modules for modprobe.
 */
function unpackGuestKernel() {
  aptUpdate();
  const pkg = kernelPackageOf(
    execFileSync('apt-cache', ['depends', GUEST_KERNEL_META], { encoding: 'utf8' }),
  );
  if (!pkg) {
    console.error(`install-deps: apt knows no kernel package behind ${GUEST_KERNEL_META}`);
    process.exit(1);
  }
  const version = pkg.slice('linux-image-'.length);
  console.log(
    `install-deps: unpacking ${pkg} into ${GUEST_KERNEL_CACHE} (the IPVS micro-VM's kernel; not installed)`,
  );
  // Beside the cache, so the finished tree moves into place with a rename (same filesystem).
  mkdirSync(dirname(GUEST_KERNEL_CACHE), { recursive: true });
  const work = mkdtempSync(join(dirname(GUEST_KERNEL_CACHE), 'unpack-'));
  try {
    execFileSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], {
      cwd: work,
      stdio: 'inherit',
      env: aptEnv,
    });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    const tree = join(work, 'tree');
    execFileSync('dpkg-deb', ['-x', join(work, deb), tree]);
    execFileSync('depmod', ['-b', tree, version]);
    // Published whole with one rename, so a run that is interrupted leaves no half-unpacked kernel.
    rmSync(GUEST_KERNEL_CACHE, { recursive: true, force: true });
    renameSync(tree, GUEST_KERNEL_CACHE);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function fetchContainerd2() {
  try {
    unpackUnstableContainerd();
  } catch (e) {
    if (!(e instanceof Containerd2FetchError)) throw e;
    console.error(`install-deps: ${e.message}`);
    console.error(
      `install-deps: missing: containerd ${CONTAINERD_2_SERIES}.x in ${CONTAINERD_2_CACHE}, which the real-containerd tier on 2.x (NODEAGENT_CONTAINERD=2.1) runs; the default tier (containerd 1.6) does not need it. Check that this machine reaches its Debian mirror (/etc/apt/sources.list*), then run node tools/install-deps.mjs again as root.`,
    );
    process.exit(1);
  }
}

function fetchRunc() {
  try {
    unpackUnstableRunc();
  } catch (e) {
    if (!(e instanceof RuncFetchError)) throw e;
    console.error(`install-deps: ${e.message}`);
    console.error(
      'install-deps: missing: runc 1.3 in /var/cache/nodeagent/runc-1.3, which containerd 2.1 runs by default (NODEAGENT_CONTAINERD=2.1; user namespaces need it); the default tier (containerd 1.6) does not. Run node tools/install-deps.mjs again as root.',
    );
    process.exit(1);
  }
}

function main() {
  const missing = missingPackages();
  const kernel = guestKernelPresent();
  const containerd2 = containerd2Present();
  const runc = runcUnstablePresent();
  if (missing.length === 0 && kernel && containerd2 && runc) {
    console.log('install-deps: all system packages present');
    return;
  }
  if (process.getuid?.() !== 0) {
    if (missing.length > 0) {
      console.error(`install-deps: missing Debian packages: ${missing.join(' ')}`);
      console.error(
        `install-deps: run as root, or: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
      );
    }
    if (!kernel)
      console.error(`install-deps: the micro-VM's kernel is not unpacked in ${GUEST_KERNEL_CACHE}`);
    if (!containerd2)
      console.error(
        `install-deps: Debian unstable's containerd 2.1 is not unpacked in ${CONTAINERD_2_CACHE}`,
      );
    if (!runc) console.error("install-deps: Debian unstable's runc 1.3 is not unpacked");
    console.error('install-deps: run this script as root (sudo node tools/install-deps.mjs)');
    process.exit(1);
  }
  if (missing.length > 0) installPackages(missing);
  if (!kernel) unpackGuestKernel();
  if (!containerd2) fetchContainerd2();
  if (!runc) fetchRunc();
  console.log('install-deps: done');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
