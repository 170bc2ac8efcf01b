import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { PodSyncer } from '../src/sync/pod-syncer';
import type { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod, readySandbox, runtimeContainer, runtimeStatus } from './helpers/fixtures';
import { noObjects, podSyncerHost } from './helpers/pod-syncer-host';

function recordingRuntime(log: string[]): PodRuntime {
  const notUsed = async () => {
    throw new Error('not used');
  };
  return {
    listPods: async () => [],
    podSandboxStatus: async () => undefined,
    runPodSandbox: notUsed,
    stopPodSandbox: async (id) => void log.push(`stopSandbox:${id}`),
    removePodSandbox: async () => {},
    imageRef: async () => undefined,
    pullImage: notUsed,
    createContainer: notUsed,
    startContainer: async () => {},
    stopContainer: async (id, timeout) => void log.push(`stop:${id}:${timeout}`),
    removeContainer: async () => {},
    execSync: async (id, command) => {
      log.push(`exec:${id}:${command.join(' ')}`);
      return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
    },
  };
}

describe('killing a pod', () => {
  it('stops main containers first, then sidecars in reverse order, then the sandbox; preStop before stop', async () => {
    const log: string[] = [];
    const clock = new FakeClock();
    const syncer = new PodSyncer({
      runtime: recordingRuntime(log),
      volumes: {} as PodVolumeManager,
      cluster: { objects: noObjects },
      clock,
      host: podSyncerHost(),
      sleep: async (ms) => clock.advance(ms),
    });
    const sidecarA = { name: 'a', image: 'b', restartPolicy: 'Always' as const };
    const sidecarB = {
      name: 'b',
      image: 'b',
      restartPolicy: 'Always' as const,
      lifecycle: { preStop: { exec: { command: ['drain'] } } },
    };
    const app = { name: 'app', image: 'b', lifecycle: { preStop: { sleep: { seconds: 3 } } } };
    const pod = makePod({
      initContainers: [sidecarA, sidecarB],
      containers: [app],
      terminationGracePeriodSeconds: 10,
    });
    const status = runtimeStatus(
      pod,
      [readySandbox()],
      [
        runtimeContainer(sidecarA, { id: 'sa' }),
        runtimeContainer(sidecarB, { id: 'sb' }),
        runtimeContainer(app, { id: 'main' }),
      ],
    );
    await syncer.killPod(pod, status);
    // app's preStop sleeps 3 s of its 10 s grace period: StopContainer gets the remaining 7 s.
    expect(log).toEqual(['stop:main:7', 'exec:sb:drain', 'stop:sb:10', 'stop:sa:10', 'stopSandbox:sb-1']);
  });

  it('uses a kill grace period override, never less than 2 s', async () => {
    const log: string[] = [];
    const syncer = new PodSyncer({
      runtime: recordingRuntime(log),
      volumes: {} as PodVolumeManager,
      cluster: { objects: noObjects },
      clock: new FakeClock(),
      host: podSyncerHost(),
    });
    const app = { name: 'app', image: 'b' };
    const pod = makePod({ containers: [app] });
    await syncer.killPod(pod, runtimeStatus(pod, [readySandbox()], [runtimeContainer(app, { id: 'c' })]), 0);
    expect(log).toEqual(['stop:c:2', 'stopSandbox:sb-1']);
  });
});
