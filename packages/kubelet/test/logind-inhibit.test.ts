import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogindDbus } from '../src/nodeshutdown/logind-dbus';
import { logindInhibit } from '../src/nodeshutdown/logind-inhibit-call';
import { FakeDbusServer } from './helpers/fake-dbus-server';
import { waitFor } from './helpers/wait-for';

const peerScript = join(import.meta.dirname, 'helpers', 'fd-passing-logind-peer.ts');

describe('logindInhibit (Inhibit over a blocking socket, the lock by SCM_RIGHTS)', () => {
  let dir: string;
  let peer: ChildProcess | undefined;
  let lines: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `logind-inhibit-${process.pid}-`));
    lines = [];
  });
  afterEach(async () => {
    if (peer?.pid && peer.exitCode === null) peer.kill('SIGTERM');
    peer = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function startPeer(mode: 'lock' | 'denied'): Promise<string> {
    const socketPath = join(dir, 'bus.sock');
    peer = spawn(process.execPath, ['--import', 'tsx', peerScript, 'serve', socketPath, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    peer.stdout?.setEncoding('utf8');
    peer.stdout?.on('data', (text: string) => lines.push(...text.split('\n').filter(Boolean)));
    await waitFor('the peer to listen', () => lines.includes('ready'), 20_000);
    return socketPath;
  }

  it('returns the lock descriptor; closing it releases the lock', async () => {
    const socketPath = await startPeer('lock');
    const fd = await logindInhibit(socketPath, 0);
    const inhibit = '["shutdown","kubelet","Kubelet needs time to handle node shutdown","delay"]';
    await waitFor("the peer's record of the call", () => lines.includes(`inhibit ${inhibit}`), 10_000);
    // The write end of the peer's pipe, held here: the peer sees no end of file yet.
    expect(fstatSync(fd).isFIFO()).toBe(true);
    expect(lines).not.toContain('released');
    closeSync(fd);
    await waitFor('the peer to see the lock released', () => lines.includes('released'), 10_000);
  });

  it('LogindDbus holds the lock until it is released', async () => {
    const socketPath = await startPeer('lock');
    const logind = await LogindDbus.connect({ busPath: socketPath, configDirectory: dir });
    try {
      const lock = await logind.inhibitShutdown();
      await waitFor(
        "the peer's record of the call",
        () => lines.some((l) => l.startsWith('inhibit ')),
        10_000,
      );
      await lock.release();
      await lock.release();
      await waitFor('the peer to see the lock released', () => lines.includes('released'), 10_000);
    } finally {
      logind.close();
    }
  });

  it("rejects with logind's error", async () => {
    const socketPath = await startPeer('denied');
    await expect(logindInhibit(socketPath, 0)).rejects.toThrow(
      'org.freedesktop.login1.Manager.Inhibit: org.freedesktop.DBus.Error.AccessDenied: Permission denied',
    );
  });

  it('rejects with the dial error when there is no bus', async () => {
    await expect(logindInhibit(join(dir, 'absent.sock'), 0)).rejects.toThrow(
      `dial unix ${join(dir, 'absent.sock')}: connect: no such file or directory`,
    );
  });
});

describe('LogindDbus (properties, KillUnit and PrepareForShutdown over the existing client)', () => {
  let dir: string;
  let server: FakeDbusServer | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `logind-dbus-${process.pid}-`));
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const prepareForShutdown = (active: boolean) => ({
    path: '/org/freedesktop/login1',
    interface: 'org.freedesktop.login1.Manager',
    member: 'PrepareForShutdown',
    signature: 'b',
    body: [active],
  });

  async function connect(delayUsec: bigint): Promise<LogindDbus> {
    server = new FakeDbusServer(join(dir, 'bus.sock'), (call) => {
      if (call.member === 'Get') return { signature: 'v', body: [{ signature: 't', value: delayUsec }] };
      if (call.member === 'AddMatch')
        return { laterSignals: [prepareForShutdown(true), prepareForShutdown(false)] };
      if (call.member === 'KillUnit') return { signature: 'o', body: ['/org/freedesktop/systemd1/job/1'] };
      return { signature: 's', body: [':1.9'] };
    });
    await server.listen();
    return LogindDbus.connect({
      busPath: join(dir, 'bus.sock'),
      configDirectory: join(dir, 'logind.conf.d'),
    });
  }

  it("reads InhibitDelayMaxUSec, writes upstream's drop-in and SIGHUPs logind through systemd", async () => {
    const logind = await connect(30_000_000n);
    try {
      expect(await logind.currentInhibitDelayMs()).toBe(30_000);
      expect(server?.calls.at(-1)?.body).toEqual(['org.freedesktop.login1.Manager', 'InhibitDelayMaxUSec']);
      await logind.overrideInhibitDelay(45_000);
      expect(await readFile(join(dir, 'logind.conf.d', '99-kubelet.conf'), 'utf8')).toBe(
        '# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=45\n',
      );
      await logind.reloadLogindConf();
      const kill = server?.calls.at(-1);
      expect([kill?.destination, kill?.interface, kill?.member, kill?.body]).toEqual([
        'org.freedesktop.systemd1',
        'org.freedesktop.systemd1.Manager',
        'KillUnit',
        ['systemd-logind.service', 'all', 1],
      ]);
    } finally {
      logind.close();
    }
  });

  it('passes PrepareForShutdown on, and ends the watch when the bus goes away', async () => {
    const logind = await connect(0n);
    const events: boolean[] = [];
    let ended: unknown;
    try {
      await logind.monitorShutdown(
        (active) => events.push(active),
        (error) => {
          ended = error ?? 'ended';
        },
      );
      expect(server?.calls.at(-1)?.body).toEqual([
        "type='signal',path='/org/freedesktop/login1',interface='org.freedesktop.login1.Manager',member='PrepareForShutdown'",
      ]);
      await waitFor('both signals', () => events.length === 2, 10_000);
      expect(events).toEqual([true, false]);
      server?.disconnectAll();
      await waitFor('the watch to end', () => ended !== undefined, 10_000);
    } finally {
      logind.close();
    }
  });

  it("fails as upstream's dial does when there is no bus", async () => {
    await expect(LogindDbus.connect({ busPath: join(dir, 'none.sock') })).rejects.toThrow(
      `dial unix ${join(dir, 'none.sock')}: connect: no such file or directory`,
    );
  });
});
