import type { CriClient } from '@nodeagent/cri-client';
import { describe, expect, it } from 'vitest';
import { CriImageInfo } from '../src/cri/cri-image-info';

/** A runtime holding every image asked about: `img-N` has id `sha256:N`, uid N and size N bytes. */
function fakeRuntime() {
  const asked: string[] = [];
  const client = {
    async imageStatus({ image }: { image: { image: string } }) {
      asked.push(image.image);
      const n = image.image.replace(/^(img-|sha256:)/, '');
      return { image: { id: `sha256:${n}`, uid: { value: n }, username: '', size: n }, info: {} };
    },
  } as unknown as CriClient;
  return { client, asked };
}

describe('CriImageInfo', () => {
  it('answers the user and size of an image it just saw without a second ImageStatus', async () => {
    const { client, asked } = fakeRuntime();
    const info = new CriImageInfo(client);
    expect(await info.imageRef('img-7')).toBe('sha256:7');
    expect(await info.imageUser('sha256:7')).toEqual({ uid: 7, username: '' });
    expect(await info.imageSize('sha256:7')).toBe(7);
    expect(asked).toEqual(['img-7']);
  });

  it('forgets the oldest image ids as new ones turn up, asking ImageStatus again for the same answer', async () => {
    const { client, asked } = fakeRuntime();
    const info = new CriImageInfo(client);
    await info.imageRef('img-0');
    // A new digest per build, for as long as the kubelet runs.
    for (let n = 1; n <= 1000; n++) await info.imageRef(`img-${n}`);
    asked.length = 0;
    expect(await info.imageUser('sha256:1000')).toEqual({ uid: 1000, username: '' });
    expect(asked).toEqual([]);
    expect(await info.imageUser('sha256:0')).toEqual({ uid: 0, username: '' });
    expect(await info.imageSize('sha256:0')).toBe(0);
    expect(asked).toEqual(['sha256:0']);
  });
});
