import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../src/index';

const run = promisify(execFile);

describe('the real kubectl binary with resource.k8s.io/v1 on the in-process API server', {
  timeout: 60_000,
}, () => {
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;

  async function kubectl(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      {
        env: { ...process.env, HOME: dir },
        timeout: 30_000,
      },
    );
    return stdout;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `na-dra-kubectl-${process.pid}-`));
    kubeconfig = join(dir, 'kubeconfig');
    server = await startApiServer();
    server.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discovers the group and prints claims and slices with upstream columns', async () => {
    const resources = await kubectl('api-resources', '--api-group=resource.k8s.io', '-o', 'name');
    expect(resources.trim().split('\n').sort()).toEqual([
      'deviceclasses.resource.k8s.io',
      'resourceclaims.resource.k8s.io',
      'resourceclaimtemplates.resource.k8s.io',
      'resourceslices.resource.k8s.io',
    ]);
    const claims = server.resource('resource.k8s.io/v1', 'resourceclaims');
    const request = { name: 'dev', exactly: { deviceClassName: 'test-driver.cdi.k8s.io' } };
    server.registry.create(claims, 'default', {
      metadata: { name: 'waiting' },
      spec: { devices: { requests: [request] } },
    });
    const held = server.registry.create(claims, 'default', {
      metadata: { name: 'held' },
      spec: { devices: { requests: [request] } },
    });
    server.registry.update(
      claims,
      'default',
      'held',
      {
        ...held,
        status: {
          allocation: {
            devices: {
              results: [
                { request: 'dev', driver: 'test-driver.cdi.k8s.io', pool: 'n1', device: 'device-00' },
              ],
            },
          },
          reservedFor: [{ resource: 'pods', name: 'p', uid: 'u-1' }],
        },
      },
      'status',
    );
    server.registry.create(server.resource('resource.k8s.io/v1', 'resourceslices'), undefined, {
      metadata: { name: 'n1-slice' },
      spec: { driver: 'test-driver.cdi.k8s.io', nodeName: 'n1', pool: { name: 'n1', resourceSliceCount: 1 } },
    });

    expect(await kubectl('get', 'resourceclaims', '-o', 'name')).toBe(
      'resourceclaim.resource.k8s.io/held\nresourceclaim.resource.k8s.io/waiting\n',
    );
    const table = await kubectl('get', 'resourceclaims');
    expect(table).toMatch(/^NAME\s+STATE\s+AGE\n/);
    expect(table).toMatch(/\nheld\s+allocated,reserved\s/);
    expect(table).toMatch(/\nwaiting\s+pending\s/);
    const slices = await kubectl('get', 'resourceslices');
    expect(slices).toMatch(/^NAME\s+NODE\s+DRIVER\s+POOL\s+AGE\n/);
    expect(slices).toMatch(/\nn1-slice\s+n1\s+test-driver\.cdi\.k8s\.io\s+n1\s/);
  });
});
