import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { InvalidConfigError } from '../src/errors';
import { ImageGCError } from '../src/images/image-gc-errors';
import { ImageGCManager } from '../src/images/image-gc-manager';
import { imageGCPolicyFromConfig } from '../src/images/image-gc-policy';
import type { ImageService, RuntimeImage } from '../src/images/image-service';

const Gi = 1024 ** 3;

class FakeImages implements ImageService {
  images = new Map<string, RuntimeImage>();
  removed: string[] = [];
  add(id: string, sizeBytes: number, pinned = false): void {
    this.images.set(id, { id, repoTags: [`${id}:latest`], sizeBytes, pinned });
  }
  async listImages(): Promise<RuntimeImage[]> {
    return [...this.images.values()];
  }
  async removeImage(id: string): Promise<void> {
    this.images.delete(id);
    this.removed.push(id);
  }
}

function setup(config: Parameters<typeof parseKubeletConfiguration>[0] = {}) {
  const clock = new FakeClock();
  const images = new FakeImages();
  const inUse = new Set<string>();
  // A 100 Gi image filesystem whose usage follows the images it holds plus a fixed base.
  const fs = { base: 0 };
  const manager = new ImageGCManager({
    images,
    imagesInUse: async () => inUse,
    imageFs: async () => {
      let used = fs.base;
      for (const image of images.images.values()) used += image.sizeBytes;
      return { time: '', capacityBytes: 100 * Gi, availableBytes: 100 * Gi - used };
    },
    policy: imageGCPolicyFromConfig(parseKubeletConfiguration(config).config),
    clock,
  });
  return { clock, images, inUse, fs, manager };
}

describe('image GC policy', () => {
  it('takes upstream defaults and validates the thresholds and ages', () => {
    expect(imageGCPolicyFromConfig(parseKubeletConfiguration({}).config)).toEqual({
      highThresholdPercent: 85,
      lowThresholdPercent: 80,
      minAgeMs: 120_000,
      maxAgeMs: 0,
    });
    expect(() =>
      parseKubeletConfiguration({ imageGCHighThresholdPercent: 70, imageGCLowThresholdPercent: 75 }),
    ).toThrow(InvalidConfigError);
    expect(() => parseKubeletConfiguration({ imageMaximumGCAge: '1m' })).toThrow(/imageMaximumGCAge/);
  });
});

describe('ImageGCManager', () => {
  it('does nothing below the high threshold', async () => {
    const { manager, images, fs, clock } = setup();
    images.add('a', 10 * Gi);
    await manager.detectImages(clock.now());
    clock.advance(10 * 60_000);
    fs.base = 70 * Gi; // 80% used
    expect(await manager.garbageCollect()).toEqual({ removed: [], freedBytes: 0 });
    expect(images.removed).toEqual([]);
  });

  it('frees down to the low threshold: unused, old enough, unpinned, least recently used first', async () => {
    const { manager, images, inUse, fs, clock } = setup();
    images.add('used-long-ago', 3 * Gi);
    images.add('used-recently', 3 * Gi);
    images.add('running', 3 * Gi);
    images.add('pause', 1 * Gi, true);
    inUse.add('used-long-ago');
    await manager.detectImages(clock.now());
    clock.advance(60_000);
    inUse.clear();
    inUse.add('used-recently');
    inUse.add('running');
    await manager.detectImages(clock.now());
    inUse.delete('used-recently');
    clock.advance(5 * 60_000);
    images.add('fresh', 3 * Gi); // first seen now: younger than imageMinimumGCAge
    fs.base = 77 * Gi; // 77 + 13 = 90% used; low threshold 80% → free 10 Gi... only 6 Gi eligible
    await expect(manager.garbageCollect()).rejects.toThrow(ImageGCError);
    expect(images.removed).toEqual(['used-long-ago', 'used-recently']);
    expect(images.images.has('running') && images.images.has('pause') && images.images.has('fresh')).toBe(
      true,
    );
  });

  it('stops as soon as enough is freed', async () => {
    const { manager, images, fs, clock } = setup();
    for (const id of ['a', 'b', 'c']) {
      images.add(id, 4 * Gi);
      await manager.detectImages(clock.now());
      clock.advance(60_000);
    }
    clock.advance(5 * 60_000);
    fs.base = 74 * Gi; // 86% used → free 6 Gi: two of the three oldest-first
    const result = await manager.garbageCollect();
    expect(result).toEqual({ removed: ['a', 'b'], freedBytes: 8 * Gi });
  });

  it('removes images unused for longer than imageMaximumGCAge regardless of usage', async () => {
    const { manager, images, inUse, clock } = setup({ imageMaximumGCAge: '1h' });
    images.add('stale', Gi);
    images.add('busy', Gi);
    inUse.add('busy');
    await manager.detectImages(clock.now());
    clock.advance(61 * 60_000);
    const result = await manager.garbageCollect();
    expect(result.removed).toEqual(['stale']);
  });

  it('deleteUnusedImages (eviction reclaim) removes every eligible image', async () => {
    const { manager, images, inUse, clock } = setup();
    images.add('x', Gi);
    images.add('y', Gi);
    images.add('z', Gi);
    inUse.add('z');
    await manager.detectImages(clock.now());
    clock.advance(3 * 60_000);
    expect((await manager.deleteUnusedImages()).removed.sort()).toEqual(['x', 'y']);
  });

  it('refuses to run on a filesystem without capacity, recording InvalidDiskCapacity on the Node', async () => {
    const events: string[][] = [];
    let capacityBytes: number | undefined;
    const images = new FakeImages();
    const manager = new ImageGCManager({
      images,
      imagesInUse: async () => [],
      // What the stats report before the image filesystem was measured: no capacity.
      imageFs: async () => ({ time: '', capacityBytes, availableBytes: capacityBytes }),
      policy: imageGCPolicyFromConfig(parseKubeletConfiguration({ imageMaximumGCAge: '1h' }).config),
      recordNodeEvent: (type, reason, message) => events.push([type, reason, message]),
    });
    await expect(manager.garbageCollect()).rejects.toThrow(ImageGCError);
    await expect(manager.garbageCollect()).rejects.toThrow(/invalid capacity 0 on image filesystem/);
    expect(events).toEqual([
      ['Warning', 'InvalidDiskCapacity', 'invalid capacity 0 on image filesystem'],
      ['Warning', 'InvalidDiskCapacity', 'invalid capacity 0 on image filesystem'],
    ]);
    // A measured filesystem: no event.
    capacityBytes = 100 * Gi;
    await manager.garbageCollect();
    expect(events).toHaveLength(2);
    // An unreadable filesystem is an error of its own, no event (upstream returns ImageFsStats' error).
    const failing = new ImageGCManager({
      images,
      imagesInUse: async () => [],
      imageFs: async () => {
        throw new Error('ImageFsInfo: unavailable');
      },
      policy: imageGCPolicyFromConfig(parseKubeletConfiguration({}).config),
      recordNodeEvent: (type, reason, message) => events.push([type, reason, message]),
    });
    await expect(failing.garbageCollect()).rejects.toThrow(/unavailable/);
    expect(events).toHaveLength(2);
  });

  it('records FreeDiskSpaceFailed when it cannot free what the thresholds ask for', async () => {
    const { images, fs, clock } = setup();
    const events: string[][] = [];
    const manager = new ImageGCManager({
      images,
      imagesInUse: async () => [],
      imageFs: async () => ({ time: '', capacityBytes: 100 * Gi, availableBytes: 100 * Gi - fs.base }),
      policy: imageGCPolicyFromConfig(parseKubeletConfiguration({}).config),
      clock,
      recordNodeEvent: (type, reason, message) => events.push([type, reason, message]),
    });
    fs.base = 90 * Gi; // nothing to remove; 10 Gi wanted
    await expect(manager.garbageCollect()).rejects.toThrow(ImageGCError);
    expect(events).toEqual([
      [
        'Warning',
        'FreeDiskSpaceFailed',
        `Failed to garbage collect required amount of images. Attempted to free ${10 * Gi} bytes, but only found 0 bytes eligible to free.`,
      ],
    ]);
  });
});
