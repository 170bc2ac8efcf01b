import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, describe, expect, it } from 'vitest';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { ObjectCacheSyncError } from '../src/objects/object-errors';
import { PodSyncer } from '../src/sync/pod-syncer';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod, runtimeStatus } from './helpers/fixtures';
import { podSyncerHost } from './helpers/pod-syncer-host';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const unusedRuntime = new Proxy({} as PodRuntime, {
  get: () => async () => {
    throw new Error('the runtime is not reached: the volumes failed first');
  },
});

async function syncerReading(getConfigMap: () => Promise<undefined>) {
  const rootDir = await mkdtemp(join(tmpdir(), `na-object-sync-retry-${process.pid}-`));
  dirs.push(rootDir);
  const events: { reason: string; message: string }[] = [];
  const syncer = new PodSyncer({
    runtime: unusedRuntime,
    volumes: new PodVolumeManager({ rootDir, mounter: new RecordingMounter() }),
    cluster: { objects: { getConfigMap, getSecret: async () => undefined } },
    clock: new FakeClock(),
    host: podSyncerHost(rootDir),
    listeners: { onEvent: (_pod, _type, reason, message) => events.push({ reason, message }) },
  });
  return { syncer, events };
}

const pod = makePod({
  containers: [{ name: 'app', image: 'b', volumeMounts: [{ name: 'config', mountPath: '/config' }] }],
  volumes: [{ name: 'config', configMap: { name: 'app-config' } }],
});

describe('a sync whose ConfigMap watch had not listed yet', () => {
  it('posts upstream’s FailedMount and asks to be retried within a second', async () => {
    const { syncer, events } = await syncerReading(async () => {
      throw new ObjectCacheSyncError('configmap', 'default', 'app-config');
    });
    const outcome = await syncer.applyPodActions(pod, runtimeStatus(pod, [], []));
    expect(outcome.error).toBeDefined();
    expect(outcome.retryAfterMs).toBe(1_000);
    expect(events).toEqual([
      {
        reason: 'FailedMount',
        message:
          'MountVolume.SetUp failed for volume "config" : failed to sync configmap cache: timed out waiting for the condition',
      },
    ]);
  });

  it('leaves other mount failures to the failed sync’s own delay', async () => {
    const { syncer } = await syncerReading(async () => undefined);
    const outcome = await syncer.applyPodActions(pod, runtimeStatus(pod, [], []));
    expect(outcome.error?.message).toMatch(/configmap "app-config" not found/);
    expect(outcome.retryAfterMs).toBeUndefined();
  });
});
