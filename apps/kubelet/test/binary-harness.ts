import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAppCli } from '../../../tools/bundle/bundle-entry';

/**
 * Every kubelet these tests spawn (which inherit this worker's environment) reads its kernel
 * tunables from a checked-in directory holding upstream's values (kernel-tunables.ts), never the
 * host's /proc/sys: run as root, it would otherwise rewrite vm.overcommit_memory, kernel.panic…
 * of the machine running the suite. All values equal, it writes nothing there either.
 */
export const upstreamSysctlRoot = fileURLToPath(new URL('./fixtures/proc-sys-upstream', import.meta.url));
process.env.NODEAGENT_KUBELET_SYSCTL_ROOT ||= upstreamSysctlRoot;

/**
 * The binary's entry point, bundled from the sources once per test worker (workers keep their
 * modules between files): these tests start the kubelet dozens of times, and through tsx each
 * start cost about 3 CPU-s of transpiling before the kubelet ran (0.3 s bundled). The shipped
 * executable is such a bundle too (tools/sea).
 */
export const cli = bundleAppCli('kubelet');
/** node itself, so that a SIGKILL hits the kubelet process and not a wrapper. */
export const node = process.execPath;

/**
 * The opt-out every kubelet these tests start on the host's network carries: makeIPTablesUtilChains
 * defaults to true, and run as root the kubelet would write KUBE-FIREWALL, its jumps from INPUT and
 * OUTPUT and the canary chains into the iptables of the machine running the suite.
 * host-iptables-opt-out.test.ts fails when a start leaves it out.
 */
export const NO_HOST_IPTABLES = '--make-iptables-util-chains=false';

/** A loopback port free at the moment of asking. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * `count` distinct free loopback ports: every listener stays open until all are chosen (closed one
 * by one, the kernel may hand the same port out twice, and the kubelet refuses port = readOnlyPort).
 */
export function freePorts(count: 2): Promise<[number, number]>;
export function freePorts(count: number): Promise<number[]>;
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    for (const server of servers)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  }
}

/** Polls `probe` (errors count as "not yet") until it gives a value, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  // A guard against a hang, not a speed check: a kubelet started through tsx on a loaded
  // machine (CI runs the suite beside two busy processes) takes tens of seconds to register.
  timeoutMs = 120_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** SIGKILLs a still-running child and waits for its exit (afterAll of binary tests). */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

/**
 * Runs the binary with `argv` until it exits, writes `stopOn` to stderr (then killed: only its
 * output matters) or `ms` pass (then killed, a hang guard); its exit code and stderr.
 */
export function runKubeletUntil(
  argv: string[],
  ms: number,
  stopOn?: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [cli, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stopOn !== undefined && stderr.includes(stopOn)) child.kill('SIGKILL');
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    });
  });
}

/**
 * The flags that make the binary one test node on the fake CRI runtime: its name and loopback
 * IP, a private root dir and cert dir, the server on `port` without authorization, no healthz
 * port, no kubepods cgroups (the fake runtime runs no containers; a killed test would leave
 * them behind), and no iptables chains (NO_HOST_IPTABLES).
 */
export function fakeNodeFlags(options: {
  nodeName: string;
  rootDir: string;
  endpoint: string;
  port: number;
  /**
   * --cert-dir, `<rootDir>/pki` unless given: the kubelet writes its self-signed serving pair
   * there, never to the host's /var/lib/kubelet/pki.
   */
  certDir?: string;
}): string[] {
  return [
    '--hostname-override',
    options.nodeName,
    '--node-ip',
    '127.0.0.1',
    '--root-dir',
    options.rootDir,
    `--cert-dir=${options.certDir ?? join(options.rootDir, 'pki')}`,
    // Made at start (FlexVolume's drivers): the node's own, never the host's /usr/libexec/kubernetes.
    `--volume-plugin-dir=${join(options.rootDir, 'volume-plugins')}`,
    `--container-runtime-endpoint=${options.endpoint}`,
    `--port=${options.port}`,
    '--healthz-port=0',
    '--authorization-mode=AlwaysAllow',
    '--cgroups-per-qos=false',
    // Upstream refuses enforceNodeAllocatable (default [pods]) without the QoS cgroups.
    '--enforce-node-allocatable=',
    // failCgroupV1 defaults to true (v1.35+): the test hosts may be cgroup v1.
    '--fail-cgroupv1=false',
    NO_HOST_IPTABLES,
  ];
}

/** `dir`/config.yaml: a KubeletConfiguration with its logs under `dir`, on 127.0.0.1, then `lines`. */
export async function writeKubeletConfig(dir: string, lines: string[]): Promise<void> {
  await writeFile(
    join(dir, 'config.yaml'),
    [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      `podLogsDir: ${join(dir, 'logs')}`,
      'address: 127.0.0.1',
      ...lines,
    ].join('\n'),
  );
}

/**
 * The argv of one fake-CRI test node run from a KubeletConfiguration of its own: `<dir>/<name>.yaml`
 * (logs under `dir`, swap allowed, then `lines`) and fakeNodeFlags with root dir `<dir>/<name>`.
 */
export async function fakeNodeConfigArgv(options: {
  dir: string;
  name: string;
  nodeName: string;
  endpoint: string;
  lines: string[];
}): Promise<string[]> {
  const path = join(options.dir, `${options.name}.yaml`);
  const header = ['apiVersion: kubelet.config.k8s.io/v1beta1', 'kind: KubeletConfiguration'];
  await writeFile(
    path,
    [...header, `podLogsDir: ${join(options.dir, 'logs')}`, 'failSwapOn: false', ...options.lines].join('\n'),
  );
  const flags = fakeNodeFlags({
    nodeName: options.nodeName,
    rootDir: join(options.dir, options.name),
    endpoint: options.endpoint,
    port: await freePort(),
  });
  return ['--config', path, ...flags];
}
