import { afterAll, describe, expect, it } from 'vitest';
import {
  addRoute,
  createNetns,
  createVethPair,
  deleteNetns,
  enableForwarding,
  listNetns,
  type Netns,
  NetnsCommandError,
  NetnsScope,
  netnsExists,
  runCommand,
  withNetns,
  withNetnsScope,
} from '../../src/netns/index';

// Real kernel: these create namespaces (root only) and always delete them.
describe('network namespaces (real kernel)', () => {
  const scope = new NetnsScope('netns-test');
  afterAll(() => scope.cleanup());

  it('creates a namespace with lo up and an empty link list, then deletes it', async () => {
    const netns = await createNetns({ purpose: 'netns-basic' });
    try {
      expect(await netnsExists(netns.name)).toBe(true);
      const { stdout } = await netns.exec('ip', ['-o', 'link', 'show']);
      expect(stdout).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
      expect(stdout.trim().split('\n')).toHaveLength(1);
    } finally {
      await netns.delete();
    }
    expect(await netnsExists(netns.name)).toBe(false);
    // Deleting twice is not an error.
    await deleteNetns(netns.name);
  });

  it('withNetns deletes the namespace even when the callback throws', async () => {
    let name = '';
    await expect(
      withNetns(async (netns) => {
        name = netns.name;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(name).not.toBe('');
    expect(await listNetns()).not.toContain(name);
  });

  it('reports a failing command inside with its exit code and stderr', async () => {
    await withNetns(async (netns) => {
      const error = await netns.exec('ip', ['link', 'show', 'no-such-dev']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NetnsCommandError);
      expect((error as NetnsCommandError).exitCode).not.toBe(0);
      expect((error as NetnsCommandError).stderr).toMatch(/no-such-dev|does not exist/);
    });
  });

  it('joins two namespaces with a veth pair and routes through a third', async () => {
    const client = await scope.create();
    const router = await scope.create();
    const server = await scope.create();
    await createVethPair(
      { netns: client, ifName: 'eth0', addresses: ['10.251.1.2/24'] },
      { netns: router, ifName: 'cl0', addresses: ['10.251.1.1/24'] },
    );
    await createVethPair(
      { netns: server, ifName: 'eth0', addresses: ['10.251.2.2/24'] },
      { netns: router, ifName: 'sv0', addresses: ['10.251.2.1/24'] },
    );
    await enableForwarding(router);
    await addRoute(client, 'default', '10.251.1.1');
    await addRoute(server, 'default', '10.251.2.1');
    // The host namespace never saw these interfaces.
    const hostLinks = (await runCommand('ip', ['-o', 'link', 'show'])).stdout;
    expect(hostLinks).not.toMatch(/\bcl0\b|\bsv0\b/);
    const ping = await client.exec('busybox', ['ping', '-c', '1', '-W', '2', '10.251.2.2'], {
      allowFailure: true,
    });
    expect(ping.exitCode, ping.stdout + ping.stderr).toBe(0);
  });

  it('spawns a server inside and reaches it over the veth; delete() stops the server', async () => {
    let server: ReturnType<Netns['spawn']> | undefined;
    await withNetnsScope(async (pair) => {
      const a = await pair.create();
      const b = await pair.create();
      await createVethPair(
        { netns: a, addresses: ['10.251.3.1/24', 'fd00:251:3::1/64'] },
        { netns: b, addresses: ['10.251.3.2/24', 'fd00:251:3::2/64'] },
      );
      server = b.spawn('busybox', ['nc', '-ll', '-p', '8080', '-e', 'echo', 'hello-from-b']);
      // Wait until the listener is up inside b.
      for (let i = 0; i < 50; i++) {
        const { stdout } = await b.exec('ss', ['-ltn', 'sport = :8080']);
        if (stdout.includes(':8080')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const reply = await a.exec('busybox', ['nc', '-w', '2', '10.251.3.2', '8080']);
      expect(reply.stdout.trim()).toBe('hello-from-b');
      const v6 = await a.exec('busybox', ['ping', '-6', '-c', '1', '-W', '2', 'fd00:251:3::2'], {
        allowFailure: true,
      });
      expect(v6.exitCode, v6.stderr).toBe(0);
      // A persistent server: still running until the scope deletes its namespace.
      expect(server.exitCode).toBeNull();
    });
    expect(server?.signalCode).toBe('SIGKILL');
  });
});
