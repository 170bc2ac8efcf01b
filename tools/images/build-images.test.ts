import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, buildImages, type LocalImages, PAUSE_IMAGE } from './build-images';
import { buildUserImages, USER_IMAGES } from './user-images';

const run = promisify(execFile);

async function tarList(archive: string, member?: string): Promise<string> {
  const { stdout } = await run('tar', member ? ['-xOf', archive, member] : ['-tf', archive], {
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'latin1',
  });
  return stdout;
}

describe('tools/images', () => {
  let dir: string;
  let images: LocalImages;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'na-images-test-'));
    images = await buildImages({ cacheDir: join(dir, 'a') });
  }, 30_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds OCI archives named for ctr import', async () => {
    expect(images.pause.name).toBe(PAUSE_IMAGE);
    expect(images.busybox.name).toBe(BUSYBOX_IMAGE);
    const index = JSON.parse(await tarList(images.busybox.archive, 'index.json'));
    expect(index.manifests[0].annotations['io.containerd.image.name']).toBe(BUSYBOX_IMAGE);
    expect(index.manifests[0].digest).toBe(images.busybox.manifestDigest);
    expect(await tarList(images.busybox.archive)).toContain('oci-layout');
  });

  it('puts the busybox applets the tests rely on into the busybox image', async () => {
    const manifestPath = `blobs/sha256/${images.busybox.manifestDigest.slice('sha256:'.length)}`;
    const manifest = JSON.parse(await tarList(images.busybox.archive, manifestPath));
    const layerPath = `blobs/sha256/${manifest.layers[0].digest.slice('sha256:'.length)}`;
    const layerDir = join(dir, 'layer');
    await run('mkdir', ['-p', layerDir]);
    await run('tar', ['-xf', images.busybox.archive, '-C', layerDir, layerPath]);
    const { stdout } = await run('tar', ['-tvf', join(layerDir, layerPath)], { maxBuffer: 16 * 1024 * 1024 });
    for (const applet of ['bin/sh', 'bin/sleep', 'usr/bin/wget', 'usr/bin/nc', 'usr/sbin/httpd']) {
      expect(stdout).toMatch(new RegExp(`\\./${applet} -> /bin/busybox`));
    }
    const config = JSON.parse(
      await tarList(images.busybox.archive, `blobs/sha256/${images.busybox.id.slice('sha256:'.length)}`),
    );
    expect(config.config.Cmd).toEqual(['sh']);
    expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
  });

  it('makes the pause image run sleep forever', async () => {
    const config = JSON.parse(
      await tarList(images.pause.archive, `blobs/sha256/${images.pause.id.slice('sha256:'.length)}`),
    );
    expect(config.config.Entrypoint[0]).toBe('/bin/sleep');
  });

  it('reuses the cache on a second call and builds reproducibly elsewhere', { timeout: 30_000 }, async () => {
    const before = await stat(images.busybox.archive);
    const again = await buildImages({ cacheDir: join(dir, 'a') });
    expect(again).toEqual(images);
    expect((await stat(images.busybox.archive)).mtimeMs).toBe(before.mtimeMs);
    const elsewhere = await buildImages({ cacheDir: join(dir, 'b') });
    expect(elsewhere.busybox.manifestDigest).toBe(images.busybox.manifestDigest);
    expect(elsewhere.pause.id).toBe(images.pause.id);
    const [x, y] = [await readFile(elsewhere.busybox.archive), await readFile(images.busybox.archive)];
    expect(x.equals(y)).toBe(true);
  });

  it('re-wraps the busybox layer under configs that set User (runAsNonRoot tests)', {
    timeout: 30_000,
  }, async () => {
    const users = await buildUserImages(images.busybox);
    const manifestOf = async (archive: string, digest: string) =>
      JSON.parse(await tarList(archive, `blobs/sha256/${digest.slice('sha256:'.length)}`));
    const busyboxLayer = (await manifestOf(images.busybox.archive, images.busybox.manifestDigest)).layers[0]
      .digest;
    for (const key of ['uid1000', 'uid0', 'named'] as const) {
      const image = users[key];
      expect(image.name).toBe(USER_IMAGES[key].name);
      const config = await manifestOf(image.archive, image.id);
      expect(config.config.User).toBe(USER_IMAGES[key].user);
      expect(config.config.Cmd).toEqual(['sh']);
      expect((await manifestOf(image.archive, image.manifestDigest)).layers[0].digest).toBe(busyboxLayer);
    }
    // Cached: a second call returns the same archives without rewriting them.
    const before = await stat(users.uid1000.archive);
    expect(await buildUserImages(images.busybox)).toEqual(users);
    expect((await stat(users.uid1000.archive)).mtimeMs).toBe(before.mtimeMs);
  });
});
