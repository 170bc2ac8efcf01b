import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { fnv32a } from '../src/deep-hash';
import { AllocationCheckpoint, AllocationCheckpointError } from '../src/pod/allocation-checkpoint';
import { AllocationStore } from '../src/pod/allocation-store';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-alloc-${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pod = (cpu: string): Pod => ({
  metadata: { uid: 'u1', name: 'p' },
  spec: {
    initContainers: [
      { name: 'init', resources: { requests: { cpu: '1' } } },
      { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '10m' } } },
    ],
    containers: [{ name: 'c', resources: { requests: { cpu }, limits: { cpu } } }],
  },
});

describe('AllocationStore', () => {
  it('records app containers and sidecars, and gives the allocated pod back for a resized spec', async () => {
    const store = new AllocationStore(dir);
    await store.setAllocated(pod('200m'));
    expect(store.allocatedResources('u1', 'init')).toBeUndefined();
    expect(store.allocatedResources('u1', 'side')).toEqual({ requests: { cpu: '10m' } });
    const unchanged = pod('0.2');
    // Nothing resized: the very pod comes back, not a copy.
    expect(store.podFromAllocation(unchanged)).toEqual({ pod: unchanged, differs: false });
    expect(store.podFromAllocation(unchanged).pod).toBe(unchanged);
    const { pod: allocated, differs } = store.podFromAllocation(pod('300m'));
    expect(differs).toBe(true);
    expect(allocated.spec.containers[0]!.resources).toEqual({
      requests: { cpu: '200m' },
      limits: { cpu: '200m' },
    });
  });

  it('records pod-level resources: a changed spec.resources is a resize, and both survive a restart', async () => {
    const withLevel = (cpu: string): Pod => {
      const p = pod('200m');
      p.spec.resources = { requests: { cpu }, limits: { cpu: '1' } };
      return p;
    };
    const store = new AllocationStore(dir);
    await store.setAllocated(withLevel('500m'));
    await store.setActuatedPodLevel('u1', { requests: { cpu: '500m' }, limits: { cpu: '1' } });
    expect(store.podFromAllocation(withLevel('0.5')).differs).toBe(false);
    const resized = store.podFromAllocation(withLevel('700m'));
    expect(resized.differs).toBe(true);
    expect(resized.pod.spec.resources).toEqual({ requests: { cpu: '500m' }, limits: { cpu: '1' } });
    // Containers unchanged: only the pod-level part is swapped back.
    expect(resized.pod.spec.containers[0]!.resources).toEqual(pod('200m').spec.containers[0]!.resources);
    const again = new AllocationStore(dir);
    await again.load();
    expect(again.podFromAllocation(withLevel('700m')).pod.spec.resources?.requests).toEqual({ cpu: '500m' });
    expect(again.actuatedPodLevelResources('u1')).toEqual({
      requests: { cpu: '500m' },
      limits: { cpu: '1' },
    });
    await again.removePod('u1');
    expect(again.actuatedPodLevelResources('u1')).toBeUndefined();
  });

  it('survives a restart through allocated_pods_state and actuated_pods_state under the root dir', async () => {
    const store = new AllocationStore(dir);
    await store.setAllocated(pod('200m'));
    await store.setActuated('u1', 'c', { containerId: 'abc', resources: { limits: { cpu: '200m' } } });
    const again = new AllocationStore(dir);
    await again.load();
    expect(again.allocatedResources('u1', 'c')).toEqual({
      requests: { cpu: '200m' },
      limits: { cpu: '200m' },
    });
    // Upstream's file names containers only: the record is the running container's once asked with its id.
    expect(again.actuatedResources('u1', 'c')).toEqual({
      containerId: '',
      resources: { limits: { cpu: '200m' } },
    });
    expect(again.actuatedResources('u1', 'c', 'abc')).toEqual({
      containerId: 'abc',
      resources: { limits: { cpu: '200m' } },
    });
    // Upstream's layout: Data is PodResourceCheckpointInfo's JSON as a string, the checksum over it.
    const file = JSON.parse(await readFile(join(dir, 'allocated_pods_state'), 'utf8'));
    expect(JSON.parse(file.data)).toEqual({
      entries: {
        u1: {
          ContainerResources: {
            c: { limits: { cpu: '200m' }, requests: { cpu: '200m' } },
            side: { requests: { cpu: '10m' } },
          },
          PodLevelResources: null,
        },
      },
    });
    const actuated = JSON.parse(await readFile(join(dir, 'actuated_pods_state'), 'utf8'));
    expect(JSON.parse(actuated.data).entries.u1.ContainerResources).toEqual({
      c: { limits: { cpu: '200m' } },
    });
    await again.removePod('u1');
    const third = new AllocationStore(dir);
    await third.load();
    expect(third.isAllocated('u1')).toBe(false);
  });

  it("reads the checkpoint upstream's kubelet writes (its own test's file), and writes what upstream reads", async () => {
    // From upstream's state_checkpoint_test.go (formatUpgraded): a file of an older v1.3x kubelet.
    await writeFile(
      join(dir, 'allocated_pods_state'),
      '{"data":"{\\"entries\\":{\\"pod1\\":{\\"ContainerResources\\":{\\"container1\\":{\\"requests\\":{\\"cpu\\":\\"1Ki\\",\\"memory\\":\\"1Ki\\"}}}}}}","checksum":1178570812}',
    );
    const read = await new AllocationCheckpoint(dir, 'allocated_pods_state').load();
    expect(read).toEqual({
      pod1: { containerResources: { container1: { requests: { cpu: '1Ki', memory: '1Ki' } } } },
    });
    // Written back: the same Data with upstream's PodLevelResources field, checksummed as upstream checks it.
    const file = new AllocationCheckpoint(dir, 'allocated_pods_state');
    await file.save(read);
    await file.settled();
    expect(await readFile(join(dir, 'allocated_pods_state'), 'utf8')).toBe(
      '{"data":"{\\"entries\\":{\\"pod1\\":{\\"ContainerResources\\":{\\"container1\\":{\\"requests\\":{\\"cpu\\":\\"1Ki\\",\\"memory\\":\\"1Ki\\"}}},\\"PodLevelResources\\":null}}}","checksum":' +
        `${fnv32a('(string){"entries":{"pod1":{"ContainerResources":{"container1":{"requests":{"cpu":"1Ki","memory":"1Ki"}}},"PodLevelResources":null}}}')}}`,
    );
    expect(await new AllocationCheckpoint(dir, 'allocated_pods_state').load()).toEqual(read);
  });

  it('reports a damaged checkpoint and starts over', async () => {
    await writeFile(join(dir, 'allocated_pods_state'), '{"data":"{\\"entries\\":{}}","checksum":1}');
    await expect(new AllocationCheckpoint(dir, 'allocated_pods_state').load()).rejects.toBeInstanceOf(
      AllocationCheckpointError,
    );
    const errors: Error[] = [];
    const store = new AllocationStore(dir);
    await store.load((error) => errors.push(error));
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('checksum mismatch')]);
    expect(store.podUids()).toEqual([]);
  });
});

describe('AllocationCheckpoint writes in a burst', () => {
  it('saves that queue behind a write share the next one, and each resolves with its pod on disk', async () => {
    const file = new AllocationCheckpoint(dir, 'allocated_pods_state');
    const map: Record<string, { containerResources: Record<string, object> }> = {};
    let renames = 0;
    const write = (file as unknown as { write: (m: object) => Promise<void> }).write.bind(file);
    (file as unknown as { write: (m: object) => Promise<void> }).write = async (m) => {
      renames += 1;
      await write(m);
    };
    const saved = Array.from({ length: 30 }, (_, i) => {
      map[`uid-${i}`] = { containerResources: { c: { requests: { cpu: `${i + 1}m` } } } };
      return file.save(map).then(async () => Object.keys(await file.load()));
    });
    const onDisk = await Promise.all(saved);
    onDisk.forEach((uids, i) => {
      expect(uids).toContain(`uid-${i}`);
    });
    expect(Object.keys(await file.load())).toHaveLength(30);
    // The first save writes at once; the other 29 arrived while it was queued or running.
    expect(renames).toBeLessThanOrEqual(2);
  });
});
