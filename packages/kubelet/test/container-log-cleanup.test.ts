import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { podLogDirectory } from '../src/cri/log-paths';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
beforeEach(async () => {
  h = await startEngine();
});
afterEach(async () => {
  await h.close();
});

function podLogs(pod: Pod): string {
  const { namespace = 'default', name = '', uid = '' } = pod.metadata;
  return podLogDirectory(join(h.dir, 'logs'), namespace, name, uid);
}

describe('container log files follow their container (upstream removeContainerLog)', () => {
  it('container GC removes a removed instance’s log and its rotated files, keeps the kept one’s', async () => {
    const pod = testPod({
      containers: [{ name: 'crash', image: busybox, command: ['sh', '-c', 'echo out; exit 3'] }],
    });
    const dir = join(podLogs(pod), 'crash');
    h.kubelet.addPod(pod);
    // Instance 0 exits inside StartContainer; only a relist that sees the exit syncs the pod
    // again, and the one the runtime's event triggers may land after settle() returns.
    await h.settleThroughRelists();
    // Instance 0 died and instance 1 was started at once; GC keeps only the newest dead one (1),
    // and instance 0's log went with it.
    const { containers } = await h.client.listContainers({});
    expect(containers.map((c) => c.metadata?.attempt)).toEqual([1]);
    expect(await readdir(dir)).toEqual(['1.log']);
    // As if log rotation had run on instance 1 while it ran.
    await writeFile(join(dir, '1.log.20250101-120000.gz'), 'old');
    await writeFile(join(dir, '1.log.20250101-120500'), 'older');

    // The back-off runs 10 s on the engine's clock from instance 1's finishedAt, which the fake
    // runtime stamps with real time: move the clock to exactly then, however long the start took.
    const { status } = await h.client.containerStatus({ containerId: containers[0]!.id });
    const finishedAtMs = Number((status?.finishedAt ?? 0n) / 1_000_000n);
    h.clock.advance(finishedAtMs + 10_000 - h.clock.now());
    h.kubelet.resyncPods([pod]);
    await h.settleThroughRelists();
    // Instance 2 ran; GC removed instance 1 with its current and rotated log files.
    expect((await h.client.listContainers({})).containers.map((c) => c.metadata?.attempt)).toEqual([2]);
    expect(await readdir(dir)).toEqual(['2.log']);
  });

  it('removing a deleted pod removes its containers’ logs and its pod log directory', async () => {
    const pod = testPod({
      containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'echo hi; sleep 3600'] }],
    });
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(await readdir(join(podLogs(pod), 'app'))).toEqual(['0.log']);
    h.kubelet.updatePod(deleting(pod));
    await h.kubelet.settle();
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    expect(await readdir(join(h.dir, 'logs'))).toEqual([]);
  });
});
