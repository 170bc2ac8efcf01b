import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './node-runtime.mjs';
import { sharedSeaExecutable } from './shared-sea';

// Graceful node shutdown in the kubelet's single executable: logind's Inhibit reply carries the
// lock as a file descriptor, received with libc's recvmsg through the libc-calls addon the
// executable answers `import('koffi')` with (native-addons.mjs). The executable runs alone in a directory (no node_modules to find
// koffi in) on a fake CRI runtime, its system bus a private dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS,
// never the host's bus) where a test peer answers as logind and reports when the lock is closed.

type FakeRuntimeModule = {
  FakeRuntime: { start(): Promise<{ endpoint: string; stop(): Promise<void> }> };
};

const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
let dir: string;
let executable: string;
let fake: { endpoint: string; stop(): Promise<void> } | undefined;
let daemon: ChildProcess | undefined;
let peer: ChildProcess | undefined;
const peerLines: string[] = [];

/** Polls `probe` every 50 ms; throws naming `what` after `timeoutMs` (a hang guard). */
async function waitFor(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-sea-kubelet-shutdown-${run}-`));
  const built = sharedSeaExecutable('nodeagent-kubelet');
  built.catch(() => undefined); // Awaited below; a failure must not go unhandled meanwhile.
  // By path, not by package name: tools/ imports none of the packages the apps deploy.
  const { FakeRuntime } = (await import(
    join(REPO_ROOT, 'packages/cri-client/src/testing/index.ts')
  )) as FakeRuntimeModule;
  fake = await FakeRuntime.start();
  const bus = join(dir, 'bus.sock');
  writeFileSync(
    join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy>
</busconfig>
`,
  );
  daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let address = '';
  daemon.stdout?.on('data', (chunk) => {
    address += chunk;
  });
  await waitFor('dbus-daemon to listen', () => address.includes(bus));
  // InhibitDelayMaxUSec 60 s covers the 30 s asked for: no drop-in is written.
  peer = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'packages/kubelet/test/helpers/fd-passing-logind-peer.ts'),
      'bus',
      bus,
      '60000000',
    ],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  peer.stdout?.setEncoding('utf8');
  peer.stdout?.on('data', (text: string) => peerLines.push(...text.split('\n').filter(Boolean)));
  await waitFor('the peer to own its names', () => peerLines.includes('ready'));
  executable = join(dir, 'nodeagent-kubelet');
  copyFileSync((await built).path, executable);
}, 300_000);

afterAll(async () => {
  for (const child of [peer, daemon])
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(
    [peer, daemon].map((child) =>
      child && child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => child.once('exit', resolve))
        : undefined,
    ),
  );
  await fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeagent-kubelet (single executable) graceful node shutdown', { timeout: 300_000 }, () => {
  it("holds logind's lock through its libc-calls addon and releases it on PrepareForShutdown", async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      // makeIPTablesUtilChains false: run as root on the host's network, it must leave the host's iptables alone.
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        'failSwapOn: false',
        `podLogsDir: ${join(dir, 'logs')}`,
        `volumePluginDir: ${join(dir, 'volume-plugins')}`,
        'makeIPTablesUtilChains: false',
        'shutdownGracePeriod: 30s',
        'shutdownGracePeriodCriticalPods: 10s',
        '',
      ].join('\n'),
    );
    const args = [
      `--config=${config}`,
      '--hostname-override=sea-shutdown',
      '--node-ip=127.0.0.1',
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--container-runtime-endpoint=${fake?.endpoint}`,
      `--port=${await freePort()}`,
      '--healthz-port=0',
      '--authorization-mode=AlwaysAllow',
      '--cgroups-per-qos=false',
      '--enforce-node-allocatable=',
      '--fail-cgroupv1=false',
    ];
    const env = {
      ...process.env,
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'bus.sock')}`,
      // The kernel tunables from upstream's values in the repository, never the host's /proc/sys.
      NODEAGENT_KUBELET_SYSCTL_ROOT: join(REPO_ROOT, 'apps/kubelet/test/fixtures/proc-sys-upstream'),
    };
    const child = spawn(executable, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor(
        'the kubelet to start',
        () => stderr.includes('"kubelet started"') || child.exitCode !== null,
      );
      expect(stderr).not.toContain('Failed to start node shutdown manager');
      const inhibit = 'inhibit ["shutdown","kubelet","Kubelet needs time to handle node shutdown","delay"]';
      await waitFor("the peer's record of Inhibit", () => peerLines.includes(inhibit));
      expect(peerLines).not.toContain('released');
      peer?.stdin?.write('shutdown\n');
      // No pods: the kubelet releases the lock as soon as it has recorded the shutdown.
      await waitFor('the lock to be released', () => peerLines.includes('released'));
      expect(stderr).toContain(
        'Shutdown manager completed processing shutdown event, node will shutdown shortly',
      );
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
