import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePorts, node } from './binary-harness';
import { type StandaloneFakeNode, standaloneFakeNode } from './standalone-fake-node';

// Graceful node shutdown in the binary: with a grace period configured and no system bus,
// upstream's kubelet logs "Failed to start node shutdown manager" with godbus's dial error and
// runs on. DBUS_SYSTEM_BUS_ADDRESS (read as godbus reads it) points at a socket that does not
// exist, so the outcome does not depend on the machine running the suite having a bus.

let standalone: StandaloneFakeNode;

beforeAll(async () => {
  standalone = await standaloneFakeNode('na-kubelet-shutdown-bin');
});
afterAll(async () => {
  await standalone?.close();
});

describe('nodeagent-kubelet shutdownGracePeriod', () => {
  it("logs upstream's error without a system bus and starts anyway", async () => {
    const [port] = await freePorts(1);
    const config = await standalone.writeConfig('kubelet.yaml', [
      'shutdownGracePeriod: 30s',
      'shutdownGracePeriodCriticalPods: 10s',
    ]);
    const bus = join(standalone.dir, 'no-bus.sock');
    const argv = [
      '--config',
      config,
      ...fakeNodeFlags({
        nodeName: 'shutdown',
        rootDir: join(standalone.dir, 'root'),
        endpoint: standalone.fake.endpoint,
        port: port as number,
      }),
    ];
    const child = spawn(node, [cli, ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('"kubelet started"')) child.kill('SIGTERM');
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(stderr).toContain('"kubelet started"');
    expect(stderr).toMatch(
      new RegExp(
        `^E\\d{4} .*"Failed to start node shutdown manager" err="dial unix ${bus}: connect: no such file or directory"$`,
        'm',
      ),
    );
    expect(stderr).toContain('"Creating node shutdown manager"');
    // The fields are applied: no unsupported-field warning names them.
    expect(stderr).not.toMatch(/shutdownGracePeriod[^"]* is not supported/);
  }, 60_000);
});
