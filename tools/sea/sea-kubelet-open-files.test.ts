import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './node-runtime.mjs';
import { sharedSeaExecutable } from './shared-sea';

// maxOpenFiles in the kubelet's single executable: RLIMIT_NOFILE is set with libc's setrlimit
// through the libc-calls addon the executable answers `import('koffi')` with (native-addons.mjs),
// loaded only when the process's limits differ from the value. This runs the built executable,
// alone in a directory (no node_modules to find koffi in), on a fake CRI runtime under `prlimit --nofile=4096:8192`.

type FakeRuntimeModule = {
  FakeRuntime: { start(): Promise<{ endpoint: string; stop(): Promise<void> }> };
};

let dir: string;
let executable: string;
let fake: { endpoint: string; stop(): Promise<void> } | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-sea-kubelet-nofile-${process.pid}-`));
  const built = sharedSeaExecutable('nodeagent-kubelet');
  built.catch(() => undefined); // Awaited below; a failure must not go unhandled meanwhile.
  // By path, not by package name: tools/ imports none of the packages the apps deploy.
  const { FakeRuntime } = (await import(
    join(REPO_ROOT, 'packages/cri-client/src/testing/index.ts')
  )) as FakeRuntimeModule;
  fake = await FakeRuntime.start();
  executable = join(dir, 'nodeagent-kubelet');
  copyFileSync((await built).path, executable);
}, 300_000);

afterAll(async () => {
  await fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The kubelet's /proc/<pid>/limits "Max open files" soft and hard, read once it has started. */
async function openFilesOnceStarted(maxOpenFiles: number): Promise<{ limits: string[]; stderr: string }> {
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    // makeIPTablesUtilChains false: run as root on the host's network, it must leave the host's iptables alone.
    `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailSwapOn: false\npodLogsDir: ${join(dir, 'logs')}\nvolumePluginDir: ${join(dir, 'volume-plugins')}\nmakeIPTablesUtilChains: false\n`,
  );
  const args = [
    `--config=${config}`,
    `--max-open-files=${maxOpenFiles}`,
    '--hostname-override=sea-nofile',
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
  // The kernel tunables from upstream's values in the repository, never the host's /proc/sys.
  const env = {
    ...process.env,
    NODEAGENT_KUBELET_SYSCTL_ROOT: join(REPO_ROOT, 'apps/kubelet/test/fixtures/proc-sys-upstream'),
  };
  // prlimit execs the executable: one pid throughout.
  const child = spawn('prlimit', ['--nofile=4096:8192', '--', executable, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let stderr = '';
  let limits: string[] | undefined;
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (!limits && stderr.includes('"kubelet started"')) {
      const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${child.pid}/limits`, 'utf8'));
      limits = row ? [row[1] as string, row[2] as string] : [];
      child.kill('SIGTERM');
    }
  });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(limits, stderr).toBeDefined();
  return { limits: limits ?? [], stderr };
}

describe('nodeagent-kubelet (single executable) --max-open-files', { timeout: 300_000 }, () => {
  it('sets soft and hard RLIMIT_NOFILE through its libc-calls addon before it starts', async () => {
    const { limits, stderr } = await openFilesOnceStarted(3000);
    expect(limits).toEqual(['3000', '3000']);
    expect(stderr).not.toContain('Failed to set rlimit on max file handles');
  });
});
