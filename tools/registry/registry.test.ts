import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, type LocalImages } from '../images/build-images';
import { type RunningRegistry, startRegistry } from './registry';
import { listeningPort } from './registry-config';

const run = promisify(execFile);
const robot = { username: 'robot', password: 's3cret' };
const manifestAccept = { accept: 'application/vnd.oci.image.manifest.v1+json' };

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('tools/registry', () => {
  let registry: RunningRegistry;
  let images: LocalImages;

  beforeAll(async () => {
    images = await buildImages();
    registry = await startRegistry({ users: [robot, { username: 'other', password: 'pw2' }] });
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
  }, 60_000);

  it('reads the port from the registry log line', () => {
    expect(listeningPort('time="x" level=info msg="listening on 127.0.0.1:41234" go.version=go1.19')).toBe(
      41234,
    );
    expect(listeningPort('level=info msg="starting"')).toBeUndefined();
  });

  it('listens on loopback inside its own network namespace, not in the host one', async () => {
    expect(registry.host).toBe(`127.0.0.1:${registry.port}`);
    const ours = await run('readlink', [`/proc/${registry.pid}/ns/net`]);
    const host = await run('readlink', ['/proc/self/ns/net']);
    expect(ours.stdout).not.toBe(host.stdout);
    const { stdout } = await run('nsenter', [`--net=${registry.netnsPath}`, 'ss', '-Hltn']);
    expect(stdout).toContain(`127.0.0.1:${registry.port}`);
  });

  it('pushes the busybox archive with basic auth; the manifest is served to users with credentials only', async () => {
    const pushed = await registry.push(
      images.busybox.archive,
      { repository: 'private/busybox', tag: '1.0', labels: { 'io.nodeagent.test': 'registry' } },
      robot,
    );
    // The label gives the pushed image its own ID, unlike the archive's.
    expect(pushed.id).not.toBe(images.busybox.id);
    const withAuth = await registry.request(
      { method: 'GET', path: '/v2/private/busybox/manifests/1.0', headers: manifestAccept },
      robot,
    );
    expect(withAuth.status).toBe(200);
    expect(withAuth.headers['docker-content-digest']).toBe(pushed.manifestDigest);
    expect(JSON.parse(withAuth.body.toString()).config.digest).toBe(pushed.id);
    const config = await registry.request(
      { method: 'GET', path: `/v2/private/busybox/blobs/${pushed.id}` },
      robot,
    );
    expect(JSON.parse(config.body.toString()).config.Labels).toEqual({ 'io.nodeagent.test': 'registry' });

    const anonymous = await registry.request({ method: 'GET', path: '/v2/private/busybox/manifests/1.0' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="nodeagent-test-registry"');
    const wrong = await registry.request(
      { method: 'GET', path: '/v2/private/busybox/manifests/1.0' },
      { username: 'robot', password: 'wrong' },
    );
    expect(wrong.status).toBe(401);
    const second = await registry.request(
      { method: 'GET', path: '/v2/private/busybox/manifests/1.0', headers: manifestAccept },
      { username: 'other', password: 'pw2' },
    );
    expect(second.status).toBe(200);
  }, 60_000);

  it('stop() ends the registry and removes its directory and namespace', async () => {
    const { pid, baseDir, netnsPath } = registry;
    await registry.stop();
    expect(await exists(`/proc/${pid}`)).toBe(false);
    expect(await exists(baseDir)).toBe(false);
    expect(await exists(netnsPath)).toBe(false);
  }, 30_000);
});
