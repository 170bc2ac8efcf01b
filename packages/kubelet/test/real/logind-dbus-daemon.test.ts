import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { LogindDbus } from '../../src/nodeshutdown/logind-dbus';
import { logindInhibit } from '../../src/nodeshutdown/logind-inhibit-call';
import { NodeShutdownManager } from '../../src/nodeshutdown/node-shutdown-manager';
import { shutdownGracePeriods } from '../../src/nodeshutdown/shutdown-grace-periods';
import { waitFor } from '../helpers/wait-for';

// The node shutdown manager over LogindDbus through a real dbus-daemon (the machine's
// /usr/bin/dbus-daemon on a private socket, never the system bus): a peer process owns
// org.freedesktop.login1 and org.freedesktop.systemd1 on that bus and answers as logind does,
// its Inhibit reply carrying a pipe's write end that the daemon passes on (SCM_RIGHTS); the peer
// reports when the last copy of it is closed, i.e. when the kubelet released the lock.

const run = `${process.pid}-${randomBytes(3).toString('hex')}`;
const peerScript = join(import.meta.dirname, '..', 'helpers', 'fd-passing-logind-peer.ts');
let dir: string;
let daemon: ChildProcess | undefined;
let peer: ChildProcess | undefined;
const lines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-logind-dbus-${run}-`));
  const busSocket = join(dir, 'bus.sock');
  await writeFile(
    join(dir, 'bus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=${busSocket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
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
  await waitFor('dbus-daemon to listen', () => address.includes(busSocket), 20_000);
  // InhibitDelayMaxUSec 5 s: below the 30 s the config asks for, so the drop-in is written.
  peer = spawn(process.execPath, ['--import', 'tsx', peerScript, 'bus', busSocket, '5000000'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  peer.stdout?.setEncoding('utf8');
  peer.stdout?.on('data', (text: string) => lines.push(...text.split('\n').filter(Boolean)));
  await waitFor('the peer to own its names', () => lines.includes('ready'), 20_000);
}, 60_000);

afterAll(async () => {
  for (const child of [peer, daemon]) if (child?.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    [peer, daemon].map((child) =>
      child && child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => child.once('exit', resolve))
        : undefined,
    ),
  );
  await rm(dir, { recursive: true, force: true });
});

describe('NodeShutdownManager over a real dbus-daemon', () => {
  it("receives Inhibit's descriptor through the daemon and holds the lock until it is closed", async () => {
    const released = lines.filter((l) => l === 'released').length;
    const fd = await logindInhibit(join(dir, 'bus.sock'), process.getuid?.() ?? 0);
    expect(fstatSync(fd).isFIFO()).toBe(true);
    // The peer closed its own copy already; the lock lasts as long as this one.
    closeSync(fd);
    await waitFor(
      'the lock to be released',
      () => lines.filter((l) => l === 'released').length > released,
      20_000,
    );
  });

  it('raises the delay, locks, and on PrepareForShutdown stops the pods and releases the lock', async () => {
    const clock = new FakeClock();
    const killed: string[] = [];
    const configDirectory = join(dir, 'logind.conf.d');
    // The peer answers the 5 s it was given: the manager reads it five times and gives up, so
    // the drop-in, the reload and the back-off are seen; the clock moves the back-off along.
    const manager = new NodeShutdownManager({
      periods: shutdownGracePeriods({ shutdownGracePeriod: '30s', shutdownGracePeriodCriticalPods: '10s' }),
      connect: () => LogindDbus.connect({ busPath: join(dir, 'bus.sock'), configDirectory }),
      activePods: () => [
        {
          metadata: { name: 'web', namespace: 'default', uid: 'web' },
          spec: { containers: [] },
        } as unknown as Pod,
      ],
      killPod: async (pod, grace) => {
        killed.push(`${pod.metadata.name} ${grace}`);
      },
      syncNodeStatus: () => {},
      clock,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const inhibits = () => lines.filter((l) => l.startsWith('inhibit ')).length;
    const inhibitsBefore = inhibits();
    const started = manager.start().then(
      () => 'started',
      (error: Error) => error.message,
    );
    const reads = () => lines.filter((l) => l === 'get').length;
    // Each back-off sleep is on the FakeClock: move it until the next read comes (the sleep may
    // not be set yet when the clock first moves; moving it again only adds time).
    for (let read = 2; read < 6; read++)
      await waitFor(
        `read ${read + 1} of InhibitDelayMaxUSec`,
        () => {
          clock.advance(100);
          return reads() > read;
        },
        20_000,
        10,
      );
    expect(await started).toBe(
      'node shutdown manager was timed out after 5 attempts waiting for logind InhibitDelayMaxSec to update to 30s (ShutdownGracePeriod), current value is 5s',
    );
    expect(lines.filter((l) => l === 'get')).toHaveLength(6);
    expect(lines).toContain('killunit ["systemd-logind.service","all",1]');
    expect(await readFile(join(configDirectory, '99-kubelet.conf'), 'utf8')).toBe(
      '# Kubelet logind override\n[Login]\nInhibitDelayMaxSec=30\n',
    );
    expect(inhibits()).toBe(inhibitsBefore);

    // With a grace period logind's 5 s covers, the manager locks and watches.
    const covered = new NodeShutdownManager({
      periods: shutdownGracePeriods({ shutdownGracePeriod: '5s', shutdownGracePeriodCriticalPods: '2s' }),
      connect: () => LogindDbus.connect({ busPath: join(dir, 'bus.sock'), configDirectory }),
      activePods: () => [
        {
          metadata: { name: 'web', namespace: 'default', uid: 'web' },
          spec: { containers: [] },
        } as unknown as Pod,
      ],
      killPod: async (pod, grace) => {
        killed.push(`${pod.metadata.name} ${grace}`);
      },
      syncNodeStatus: () => {},
      clock,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    try {
      await covered.start();
      const inhibit = 'inhibit ["shutdown","kubelet","Kubelet needs time to handle node shutdown","delay"]';
      await waitFor("the peer's record of Inhibit", () => inhibits() > inhibitsBefore, 20_000);
      expect(lines.at(lines.findLastIndex((l) => l.startsWith('inhibit ')))).toBe(inhibit);
      const released = lines.filter((l) => l === 'released').length;
      peer?.stdin?.write('shutdown\n');
      await waitFor(
        'the lock to be released',
        () => lines.filter((l) => l === 'released').length > released,
        20_000,
      );
      expect(covered.shutdownStatus()).toBe('node is shutting down');
      expect(killed).toEqual(['web 3']);
    } finally {
      await covered.stop();
    }
  }, 60_000);
});
