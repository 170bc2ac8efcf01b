import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cli,
  fakeNodeFlags,
  freePort,
  freePorts,
  killChild,
  node,
  runKubeletUntil,
  waitFor,
} from './binary-harness';
import { type StandaloneFakeNode, standaloneFakeNode } from './standalone-fake-node';

// The binary against the fake CRI runtime, whose RuntimeConfig answers CGROUPFS: the runtime's
// driver replaces the configured systemd; answering Unimplemented (as containerd 1.6), the
// configured driver stands and /metrics names kubelet_cri_losing_support; a
// userNamespaces.idsPerPod upstream's user namespace manager refuses stops the start with its words.
let standalone: StandaloneFakeNode;

beforeAll(async () => {
  standalone = await standaloneFakeNode('na-kubelet-runtime-config');
});
afterAll(async () => {
  await standalone?.close();
});

describe('the binary at start', { timeout: 120_000 }, () => {
  it("takes the runtime's cgroup driver (RuntimeConfig) over the configured one", async () => {
    const flags = fakeNodeFlags({
      nodeName: 'rc-node',
      rootDir: join(standalone.dir, 'root-a'),
      endpoint: standalone.fake.endpoint,
      port: await freePort(),
    });
    // Far enough once the driver is decided (before the kubelet is built).
    const { stderr } = await runKubeletUntil(
      ['--config', await standalone.writeConfig('systemd.yaml', ['cgroupDriver: systemd']), ...flags],
      90_000,
      'Using cgroup driver setting received from the CRI runtime',
    );
    expect(stderr).toContain('Using cgroup driver setting received from the CRI runtime');
    expect(stderr).toMatch(/cgroupDriver[=":]+cgroupfs/);
  });

  it('keeps the configured driver on a runtime without RuntimeConfig and says so on /metrics, as upstream v1.36', async () => {
    // containerd 1.6's answer (its method table has no RuntimeConfig); the kubelet asks once.
    standalone.fake.injectError('RuntimeConfig', {
      code: 12,
      details: 'unknown method RuntimeConfig for service runtime.v1.RuntimeService',
    });
    const [port, readOnlyPort] = await freePorts(2);
    const flags = fakeNodeFlags({
      nodeName: 'old-runtime',
      rootDir: join(standalone.dir, 'root-c'),
      endpoint: standalone.fake.endpoint,
      port,
    });
    const lines = ['cgroupDriver: cgroupfs', 'address: 127.0.0.1', `readOnlyPort: ${readOnlyPort}`];
    const child = spawn(
      node,
      [cli, '--config', await standalone.writeConfig('old-runtime.yaml', lines), ...flags],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    try {
      const metrics = await waitFor(
        '/metrics on the read-only port',
        () =>
          fetch(`http://127.0.0.1:${readOnlyPort}/metrics`).then(
            (r) => r.text(),
            () => undefined,
          ),
        90_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; kubelet output:\n${stderr}`);
      });
      expect(metrics).toMatch(/^kubelet_cri_losing_support\{version="1\.37\.0"\} 1$/m);
      expect(stderr).toContain('RuntimeConfig from runtime service failed');
      expect(stderr).toContain(
        'CRI implementation should be updated to support RuntimeConfig. Falling back to using cgroupDriver from kubelet config.',
      );
    } finally {
      await killChild(child);
    }
  });

  it('refuses a userNamespaces.idsPerPod that is not a multiple of 65536, naming the field', async () => {
    const flags = fakeNodeFlags({
      nodeName: 'userns-node',
      rootDir: join(standalone.dir, 'root-b'),
      endpoint: standalone.fake.endpoint,
      port: await freePort(),
    });
    const bad = await standalone.writeConfig('userns.yaml', ['userNamespaces:', '  idsPerPod: 1000']);
    const { code, stderr } = await runKubeletUntil(['--config', bad, ...flags], 90_000);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(
      'Error: userNamespaces.idsPerPod: kubelet user namespace length 1000 is not a multiple of 65536 (got 1000)',
    );
  });
});
