import { spawn } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePorts, node, upstreamSysctlRoot } from './binary-harness';
import { type StandaloneFakeNode, standaloneFakeNode } from './standalone-fake-node';

// The binary's container manager start on the fake runtime: a sysctl directory of the test's own
// (NODEAGENT_KUBELET_SYSCTL_ROOT) standing in for /proc/sys, never the host's.

let standalone: StandaloneFakeNode;

beforeAll(async () => {
  standalone = await standaloneFakeNode('na-kubelet-sysctl-bin');
});
afterAll(async () => {
  await standalone?.close();
});

/** A /proc/sys stand-in for `name`: upstream's values, with vm/overcommit_memory 0 and kernel/panic 0. */
async function stockSysctls(name: string): Promise<string> {
  const root = join(standalone.dir, `${name}-sys`);
  await cp(upstreamSysctlRoot, root, { recursive: true });
  await writeFile(join(root, 'vm/overcommit_memory'), '0\n');
  await writeFile(join(root, 'kernel/panic'), '0\n');
  return root;
}

/**
 * Starts a standalone kubelet with protectKernelDefaults as given; resolves once it has started
 * (then SIGTERMs it) or exited by itself, with its exit code (null when it started) and stderr.
 */
async function run(name: string, protect: boolean, sysctlRoot: string, port: number) {
  const config = await standalone.writeConfig(
    `${name}.yaml`,
    [`protectKernelDefaults: ${protect}`],
    join(standalone.dir, `${name}-logs`),
  );
  const argv = [
    '--config',
    config,
    '-v=2',
    ...fakeNodeFlags({
      nodeName: name,
      rootDir: join(standalone.dir, `${name}-root`),
      endpoint: standalone.fake.endpoint,
      port,
    }),
  ];
  const child = spawn(node, [cli, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODEAGENT_KUBELET_SYSCTL_ROOT: sysctlRoot },
  });
  let stderr = '';
  let started = false;
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (!started && stderr.includes('"kubelet started"')) {
      started = true;
      child.kill('SIGTERM');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code: started ? null : code, stderr };
}

describe('nodeagent-kubelet kernel tunables', () => {
  it('refuses to start with protectKernelDefaults when a value differs, exit 1, writing nothing', async () => {
    const [port] = await freePorts(1);
    const root = await stockSysctls('protect');
    const { code, stderr } = await run('protect', true, root, port as number);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'Error: Failed to start ContainerManager: [invalid kernel flag: vm/overcommit_memory, expected value: 1, actual value: 0, invalid kernel flag: kernel/panic, expected value: 10, actual value: 0]\n',
    );
    expect(await readFile(join(root, 'vm/overcommit_memory'), 'utf8')).toBe('0\n');
  }, 60_000);

  it('writes the differing values at start by default, logging each at -v=2, and runs', async () => {
    const [port] = await freePorts(1);
    const root = await stockSysctls('modify');
    const { code, stderr } = await run('modify', false, root, port as number);
    expect(code).toBeNull();
    expect(await readFile(join(root, 'vm/overcommit_memory'), 'utf8')).toBe('1');
    expect(await readFile(join(root, 'kernel/panic'), 'utf8')).toBe('10');
    expect(await readFile(join(root, 'kernel/panic_on_oops'), 'utf8')).toBe('1\n');
    expect(stderr).toContain(
      '"Updating kernel flag" flag="vm/overcommit_memory" expectedValue=1 actualValue=0',
    );
    expect(stderr).toContain('"Updating kernel flag" flag="kernel/panic" expectedValue=10 actualValue=0');
  }, 60_000);
});
