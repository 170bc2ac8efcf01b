import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { type LocalImage, tarDirectory } from './build-images';
import { readJson, writeImageLayout } from './oci-layout';

const run = promisify(execFile);

/**
 * Busybox images that differ only in their config's User, for runAsNonRoot and image-user tests:
 * a numeric non-root uid, an explicit root uid, and a user given by name (in /etc/passwd).
 */
export const USER_IMAGES = {
  uid1000: { name: 'localhost/nodeagent/busybox-uid1000:1.0', user: '1000' },
  uid0: { name: 'localhost/nodeagent/busybox-uid0:1.0', user: '0' },
  named: { name: 'localhost/nodeagent/busybox-nobody:1.0', user: 'nobody' },
} as const;

export type UserImages = Record<keyof typeof USER_IMAGES, LocalImage>;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function archiveMember(archive: string, member: string): Promise<Buffer> {
  const { stdout } = await run('tar', ['-xOf', archive, member], {
    encoding: 'buffer',
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Re-wrap the busybox image's layer under each USER_IMAGES config, cached next to the busybox
 * archive (so they follow its cache key) and written atomically like buildImages' archives.
 */
export async function buildUserImages(busybox: LocalImage): Promise<UserImages> {
  const cacheDir = dirname(busybox.archive);
  const built: Partial<UserImages> = {};
  let layer: Buffer | undefined;
  for (const [key, image] of Object.entries(USER_IMAGES) as [
    keyof UserImages,
    (typeof USER_IMAGES)[keyof UserImages],
  ][]) {
    const archive = join(cacheDir, `busybox-user-${key}.oci.tar`);
    if ((await exists(archive)) && (await exists(`${archive}.json`))) {
      built[key] = { ...(await readJson<Omit<LocalImage, 'archive'>>(`${archive}.json`)), archive };
      continue;
    }
    if (!layer) {
      const manifest = JSON.parse(
        (await archiveMember(busybox.archive, `blobs/sha256/${busybox.manifestDigest.slice(7)}`)).toString(),
      ) as { layers: { digest: string }[] };
      layer = await archiveMember(busybox.archive, `blobs/sha256/${manifest.layers[0]!.digest.slice(7)}`);
    }
    const layout = await mkdtemp(join(tmpdir(), 'na-user-image-'));
    try {
      const digests = await writeImageLayout(layout, image.name, layer, { cmd: ['sh'], user: image.user });
      const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.partial`;
      await tarDirectory(layout, `${archive}.${suffix}`, ['oci-layout', 'index.json', 'blobs']);
      await rename(`${archive}.${suffix}`, archive);
      const meta = { name: image.name, manifestDigest: digests.manifestDigest, id: digests.configDigest };
      await writeFile(`${archive}.json.${suffix}`, JSON.stringify(meta));
      await rename(`${archive}.json.${suffix}`, `${archive}.json`);
      built[key] = { ...meta, archive };
    } finally {
      await rm(layout, { recursive: true, force: true });
    }
  }
  return built as UserImages;
}
