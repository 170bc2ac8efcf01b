import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Descriptor, MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST, sha256Hex } from '../images/oci-layout';
import type { NetnsHttpRequest, NetnsHttpResponse } from './netns-http';

const run = promisify(execFile);

export type RegistryRequest = (req: NetnsHttpRequest) => Promise<NetnsHttpResponse>;

export interface PushOptions {
  /** Repository path inside the registry, e.g. `private/busybox`. */
  repository: string;
  tag: string;
  /**
   * Labels added to the image config. A label makes the pushed image's ID (its config digest)
   * differ from the archive's, so the registry image is not one containerd already holds under
   * another name.
   */
  labels?: Record<string, string>;
}

export interface PushedImage {
  /** `<host>/<repository>:<tag>` is the caller's to form; this is `<repository>:<tag>`. */
  repositoryTag: string;
  manifestDigest: string;
  /** The config digest: what CRI reports as the image ID after a pull. */
  id: string;
}

/** A registry answer other than the one the push step needs. */
export class RegistryPushError extends Error {
  readonly code = 'REGISTRY_PUSH_FAILED';
  constructor(
    readonly step: string,
    readonly status: number,
    body: string,
  ) {
    super(`registry push: ${step} answered HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'RegistryPushError';
  }
}

function expectStatus(step: string, res: NetnsHttpResponse, wanted: number[]): NetnsHttpResponse {
  if (!wanted.includes(res.status)) throw new RegistryPushError(step, res.status, res.body.toString('utf8'));
  return res;
}

/**
 * Upload one blob the two-step way every distribution version supports: POST opens an upload
 * session (202 + Location), PUT `<location>&digest=` sends the whole content and closes it (201).
 * A blob the repository already has (HEAD 200) is skipped.
 */
async function uploadBlob(request: RegistryRequest, repository: string, data: Buffer, digest: string) {
  const head = await request({ method: 'HEAD', path: `/v2/${repository}/blobs/${digest}` });
  if (head.status === 200) return;
  const start = expectStatus(
    `POST /v2/${repository}/blobs/uploads/`,
    await request({ method: 'POST', path: `/v2/${repository}/blobs/uploads/` }),
    [202],
  );
  const location = String(start.headers.location ?? '');
  // Location may be absolute (http://127.0.0.1:port/v2/...) or a path; only the path is used.
  const url = new URL(location, 'http://registry.invalid');
  url.searchParams.set('digest', digest);
  expectStatus(
    `PUT blob ${digest}`,
    await request({
      method: 'PUT',
      path: `${url.pathname}${url.search}`,
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
    }),
    [201],
  );
}

interface OciManifest {
  config: Descriptor;
  layers: Descriptor[];
}

interface ImageConfig {
  config?: { Labels?: Record<string, string> };
}

/**
 * Pushes the single image of an OCI archive (as tools/images builds them) through the registry's
 * HTTP API: each layer blob, the config (with `labels` added), then the manifest under the tag.
 */
export async function pushOciArchive(
  request: RegistryRequest,
  archive: string,
  options: PushOptions,
): Promise<PushedImage> {
  const dir = await mkdtemp(join(tmpdir(), 'na-registry-push-'));
  try {
    await run('tar', ['-xf', archive, '-C', dir]);
    const blob = (digest: string) => readFile(join(dir, 'blobs', ...digest.split(':')));
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const top = index.manifests[0];
    if (!top) throw new Error(`${archive}: index.json lists no manifest`);
    const manifest = JSON.parse((await blob(top.digest)).toString('utf8')) as OciManifest;
    for (const layer of manifest.layers)
      await uploadBlob(request, options.repository, await blob(layer.digest), layer.digest);

    const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8')) as ImageConfig;
    config.config = { ...config.config, Labels: { ...config.config?.Labels, ...options.labels } };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDigest = `sha256:${sha256Hex(configBytes)}`;
    await uploadBlob(request, options.repository, configBytes, configDigest);

    const pushed = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      config: { mediaType: MEDIA_TYPE_CONFIG, digest: configDigest, size: configBytes.length },
      layers: manifest.layers,
    };
    const manifestBytes = Buffer.from(JSON.stringify(pushed));
    const manifestDigest = `sha256:${sha256Hex(manifestBytes)}`;
    const put = expectStatus(
      `PUT manifest ${options.repository}:${options.tag}`,
      await request({
        method: 'PUT',
        path: `/v2/${options.repository}/manifests/${options.tag}`,
        headers: { 'content-type': MEDIA_TYPE_MANIFEST },
        body: manifestBytes,
      }),
      [201],
    );
    const stored = put.headers['docker-content-digest'];
    if (stored !== undefined && stored !== manifestDigest)
      throw new RegistryPushError(
        `manifest digest ${String(stored)} (sent ${manifestDigest})`,
        put.status,
        '',
      );
    return { repositoryTag: `${options.repository}:${options.tag}`, manifestDigest, id: configDigest };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
