import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A content-addressed blob as it is referenced from OCI manifests and indexes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Write `data` under blobs/sha256/ of an OCI layout directory and describe it. */
export async function writeBlob(layoutDir: string, mediaType: string, data: Buffer): Promise<Descriptor> {
  const hex = sha256Hex(data);
  const dir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** Go's GOARCH names, which is what image configs and platform selectors use. */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return map[nodeArch] ?? nodeArch;
}

export interface ImageConfigInput {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** The config's User ("1000", "nobody", "1000:1000"); unset runs as root. */
  user?: string;
}

/**
 * Lay out one single-layer image (layer tar given as bytes) as an OCI image layout directory:
 * oci-layout, index.json and the blobs. `name` goes into both the containerd name annotation and
 * the OCI ref-name annotation, so `ctr images import` registers the image under exactly that name.
 */
export async function writeImageLayout(
  layoutDir: string,
  name: string,
  layerTar: Buffer,
  config: ImageConfigInput,
): Promise<{ manifestDigest: string; configDigest: string }> {
  const layer = await writeBlob(layoutDir, MEDIA_TYPE_LAYER_TAR, layerTar);
  const arch = goArch();
  // A fixed creation time keeps the image ID stable across rebuilds of the same busybox.
  const created = '1970-01-01T00:00:00Z';
  const imageConfig = {
    created,
    architecture: arch,
    os: 'linux',
    config: {
      Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
      ...(config.cmd ? { Cmd: config.cmd } : {}),
      WorkingDir: config.workingDir ?? '/',
      ...(config.user !== undefined ? { User: config.user } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
    history: [{ created, created_by: 'nodeagent tools/images (busybox-static)' }],
  };
  const configDesc = await writeBlob(layoutDir, MEDIA_TYPE_CONFIG, Buffer.from(JSON.stringify(imageConfig)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: configDesc,
    layers: [layer],
  };
  const manifestDesc = await writeBlob(layoutDir, MEDIA_TYPE_MANIFEST, Buffer.from(JSON.stringify(manifest)));
  const tag = name.slice(name.lastIndexOf(':') + 1);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_INDEX,
    manifests: [
      {
        ...manifestDesc,
        platform: { architecture: arch, os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(index));
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { manifestDigest: manifestDesc.digest, configDigest: configDesc.digest };
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}
