import { describe, expect, it } from 'vitest';
import { nodeImagesFromCri, topImages } from '../src/node-status-body';
import { containerRuntimeVersion, formatRuntimeVersion } from '../src/runtime-version';

describe('containerRuntimeVersion', () => {
  it('cuts a Debian suffix the way a generic version parse does', () => {
    expect(containerRuntimeVersion({ runtimeName: 'containerd', runtimeVersion: '1.6.20~ds1' })).toBe(
      'containerd://1.6.20',
    );
  });

  it('keeps semantic pre-release and build metadata, drops a leading v', () => {
    expect(formatRuntimeVersion('v1.7.24')).toBe('1.7.24');
    expect(formatRuntimeVersion('1.7.0-rc.1+abc')).toBe('1.7.0-rc.1+abc');
    expect(formatRuntimeVersion('2.0.0-beta.2')).toBe('2.0.0-beta.2');
  });

  it('prints generic versions by their numbers only', () => {
    expect(formatRuntimeVersion('1.29')).toBe('1.29');
    expect(formatRuntimeVersion('1.6.20.1-foo')).toBe('1.6.20.1');
    expect(formatRuntimeVersion('01.06.020')).toBe('1.6.20');
  });

  it('reports what neither parse accepts as Unknown', () => {
    expect(formatRuntimeVersion('dev')).toBe('Unknown');
    expect(formatRuntimeVersion('7')).toBe('Unknown');
    expect(containerRuntimeVersion({ runtimeName: 'cri-o', runtimeVersion: '' })).toBe('cri-o://Unknown');
  });
});

describe('node images from CRI', () => {
  it('lists digests before tags, largest first, ties by descending ID, capped', () => {
    const images = nodeImagesFromCri([
      { id: 'sha256:a', repoTags: ['localhost/small:1'], repoDigests: [], size: '100' },
      {
        id: 'sha256:b',
        repoTags: ['localhost/busybox:1', 'localhost/busybox:latest'],
        repoDigests: ['localhost/busybox@sha256:ff'],
        size: 5000n,
      },
      { id: 'sha256:c', repoTags: ['localhost/tie:1'], repoDigests: [], size: 100 },
    ]);
    expect(topImages(images, 50)).toEqual([
      {
        names: ['localhost/busybox@sha256:ff', 'localhost/busybox:1', 'localhost/busybox:latest'],
        sizeBytes: 5000,
      },
      { names: ['localhost/tie:1'], sizeBytes: 100 },
      { names: ['localhost/small:1'], sizeBytes: 100 },
    ]);
    expect(topImages(images, 1)).toHaveLength(1);
  });
});
