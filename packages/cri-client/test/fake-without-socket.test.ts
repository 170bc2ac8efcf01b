import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCriClient, InvalidArgumentError } from '../src/index';
import { FakeRuntime } from '../src/testing/index';

// FakeRuntime.create(): a fake reached only in process, as each of a thousand hollow nodes uses
// one; it must answer as a started fake does and leave nothing on disk.

describe('a fake runtime created without listening', { timeout: 30_000 }, () => {
  const savedTmpdir = process.env.TMPDIR;
  let dir: string | undefined;
  afterEach(() => {
    // Assigning undefined to process.env stores the string "undefined": delete it instead.
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers through inProcessTransport and makes no temp dir or socket', async () => {
    // A temp dir of our own as os.tmpdir(): whatever the fake would make there, we would see.
    dir = mkdtempSync(join(tmpdir(), `na-fake-create-${process.pid}-`));
    process.env.TMPDIR = dir;
    const fake = FakeRuntime.create({
      runtimeName: 'fake',
      runtimeVersion: '9.9.9',
      podSubnet: '10.64.7.0/24',
    });
    const client = await createCriClient({ endpoint: fake.endpoint, transport: fake.inProcessTransport() });
    try {
      expect(client.runtimeVersion?.runtimeVersion).toBe('9.9.9');
      const sandboxConfig = { metadata: { name: 'p', uid: 'u', namespace: 'default', attempt: 0 } };
      const { podSandboxId } = await client.runPodSandbox({ config: sandboxConfig });
      const { status } = await client.podSandboxStatus({ podSandboxId });
      expect(status?.network?.ip).toMatch(/^10\.64\.7\.\d+$/);
      expect(fake.calls).toContain('RunPodSandbox');
      expect(fake.socketPath).toBe('');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      client.close();
      await fake.stop();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a socket client: its endpoint is no socket', async () => {
    const fake = FakeRuntime.create();
    try {
      await expect(createCriClient({ endpoint: fake.endpoint })).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await fake.stop();
    }
  });
});
