import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killChild, node, waitFor } from '../binary-harness';
import { busybox, type FakeNodeKubelet, fakeNodeKubelet } from '../fake-node-kubelet';

// Graceful node shutdown in the binary, end to end: the kubelet registers with an in-process API
// server; its system bus is a private dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS, never the host's),
// where a test peer answers as logind, passes the lock's descriptor and sends PrepareForShutdown.
// As upstream's e2e_node graceful shutdown test checks: the Node's Ready turns False with "node
// is shutting down", the running pod ends Failed/Terminated with DisruptionTarget, a new pod is
// rejected, the lock is released; a cancellation takes the lock again.

const nodeName = 'shutdown-node';
const peerScript = fileURLToPath(
  new URL('../../../../packages/kubelet/test/helpers/fd-passing-logind-peer.ts', import.meta.url),
);

let fakeNode: FakeNodeKubelet;
let dir: string;
let core: CoreV1Api;
let daemon: ChildProcess | undefined;
let peer: ChildProcess | undefined;
let kubelet: ChildProcess | undefined;
const peerLines: string[] = [];
let stderr = '';

/** Resolves once `ready` holds for what `child` has printed on stdout. */
async function started(child: ChildProcess, what: string, ready: (out: string) => boolean): Promise<void> {
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  await waitFor(what, async () => ready(out));
}

beforeAll(async () => {
  fakeNode = await fakeNodeKubelet({
    nodeName,
    dirPrefix: 'na-kubelet-shutdown-dbus',
    config: ['shutdownGracePeriod: 30s', 'shutdownGracePeriodCriticalPods: 10s'],
  });
  ({ dir, core } = fakeNode);
  const bus = join(dir, 'bus.sock');
  await writeFile(
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
  await started(daemon, 'dbus-daemon to listen', (out) => out.includes(bus));
  // InhibitDelayMaxUSec 60 s covers the 30 s asked for: no drop-in under /etc is written.
  peer = spawn(node, ['--import', 'tsx', peerScript, 'bus', bus, '60000000'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  peer.stdout?.setEncoding('utf8');
  peer.stdout?.on('data', (text: string) => peerLines.push(...text.split('\n').filter(Boolean)));
  await waitFor('the peer to own its names', async () => peerLines.includes('ready'));
  ({ child: kubelet } = await fakeNode.startKubelet({ DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` }));
  kubelet.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
}, 60_000);

afterAll(async () => {
  await killChild(kubelet);
  for (const child of [peer, daemon])
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await Promise.all(
    [peer, daemon].map((child) =>
      child && child.exitCode === null && child.signalCode === null
        ? new Promise((resolve) => child.once('exit', resolve))
        : undefined,
    ),
  );
  await fakeNode?.close();
});

const ready = async () =>
  (await core.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready');
const podStatus = async (name: string) =>
  (await core.readNamespacedPod({ name, namespace: 'default' })).status;
const sleeper = (name: string) => ({
  metadata: { name },
  spec: { nodeName, containers: [{ name: 'c', image: busybox, command: ['sh', '-c', 'sleep 3600'] }] },
});
const inhibits = () => peerLines.filter((l) => l.startsWith('inhibit ')).length;

describe('nodeagent-kubelet binary: graceful node shutdown over a private dbus-daemon', () => {
  it('on PrepareForShutdown: Ready False, the pod Terminated, new pods rejected, the lock released', async () => {
    await waitFor('the node Ready', async () => (await ready())?.status === 'True', 60_000);
    expect(inhibits()).toBe(1);
    await core.createNamespacedPod({ namespace: 'default', body: sleeper('web') });
    await waitFor('the pod running', async () => (await podStatus('web'))?.phase === 'Running');

    peer?.stdin?.write('shutdown\n');
    const notReady = await waitFor('Ready False', async () => {
      const condition = await ready();
      return condition?.status === 'False' && condition;
    });
    expect(notReady).toMatchObject({ reason: 'KubeletNotReady', message: 'node is shutting down' });
    const web = await waitFor('the pod stopped', async () => {
      const status = await podStatus('web');
      return status?.phase === 'Failed' && status;
    });
    expect(web).toMatchObject({
      reason: 'Terminated',
      message: 'Pod was terminated in response to imminent node shutdown.',
    });
    expect(web.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'TerminationByKubelet',
      message: 'Pod was terminated in response to imminent node shutdown.',
    });
    await waitFor('the lock released', async () => peerLines.includes('released'));

    await core.createNamespacedPod({ namespace: 'default', body: sleeper('late') });
    const late = await waitFor('the late pod rejected', async () => {
      const status = await podStatus('late');
      return status?.phase === 'Failed' && status;
    });
    expect(late).toMatchObject({
      reason: 'NodeShutdown',
      message: 'Pod was rejected: Pod was rejected as the node is shutting down.',
    });
    const events: CoreV1Event[] = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(events.find((e) => e.involvedObject.kind === 'Node' && e.reason === 'NodeShutdown')).toMatchObject(
      { type: 'Normal', message: 'Shutdown manager detected shutdown event' },
    );

    // A cancelled shutdown takes the lock again.
    peer?.stdin?.write('cancel\n');
    await waitFor('a new lock', async () => inhibits() === 2);
    expect(stderr).not.toContain('Failed to start node shutdown manager');
  }, 120_000);
});
