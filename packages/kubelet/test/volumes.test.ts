import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret } from '../src/api/pod-types';
import type { ObjectSource } from '../src/env/resolve-env';
import { VolumeSetupError } from '../src/errors';
import { type Payload, writeAtomically } from '../src/volumes/atomic-writer';
import { checkHostPath } from '../src/volumes/host-path';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod } from './helpers/fixtures';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-volumes-${process.pid}-`));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function payload(entries: Record<string, string>, mode = 0o644): Payload {
  return new Map(Object.entries(entries).map(([path, data]) => [path, { data, mode }]));
}

describe('writeAtomically', () => {
  it('writes files behind a ..data symlink and swaps it on change', async () => {
    const dir = join(root, 'atomic');
    expect(await writeAtomically(dir, payload({ a: '1', 'nested/b': '2' }))).toBe(true);
    const firstTarget = await readlink(join(dir, '..data'));
    expect(firstTarget).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.[0-9a-f]{8}$/);
    expect(await readlink(join(dir, 'a'))).toBe('..data/a');
    expect(await readFile(join(dir, 'nested/b'), 'utf8')).toBe('2');

    // Unchanged payload: nothing happens.
    expect(await writeAtomically(dir, payload({ a: '1', 'nested/b': '2' }))).toBe(false);
    expect(await readlink(join(dir, '..data'))).toBe(firstTarget);

    // Changed payload: new directory, old one gone, removed keys disappear.
    expect(await writeAtomically(dir, payload({ a: '3' }))).toBe(true);
    const secondTarget = await readlink(join(dir, '..data'));
    expect(secondTarget).not.toBe(firstTarget);
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('3');
    const entries = (await readdir(dir)).sort();
    expect(entries).toEqual(['..data', secondTarget, 'a'].sort());
  });

  it('sets exact file modes and rewrites when only the mode changes', async () => {
    const dir = join(root, 'modes');
    await writeAtomically(dir, payload({ key: 'v' }, 0o600));
    expect((await stat(join(dir, 'key'))).mode & 0o777).toBe(0o600);
    expect(await writeAtomically(dir, payload({ key: 'v' }, 0o400))).toBe(true);
    expect((await stat(join(dir, 'key'))).mode & 0o777).toBe(0o400);
  });

  it('refuses paths that escape the volume', async () => {
    for (const bad of ['../x', '/abs', '..data/x', 'a/../../b', '']) {
      await expect(writeAtomically(join(root, 'bad'), payload({ [bad]: 'x' }))).rejects.toBeInstanceOf(
        VolumeSetupError,
      );
    }
  });
});

describe('hostPath types', () => {
  it('creates for *OrCreate and checks the rest', async () => {
    const dir = join(root, 'hostpath', 'made');
    await checkHostPath(dir, 'DirectoryOrCreate');
    expect((await stat(dir)).isDirectory()).toBe(true);
    const file = join(dir, 'f');
    await checkHostPath(file, 'FileOrCreate');
    expect((await stat(file)).isFile()).toBe(true);
    await checkHostPath(file, 'File');
    await checkHostPath(dir, 'Directory');
    await expect(checkHostPath(file, 'Directory')).rejects.toMatchObject({
      code: 'VOLUME_SETUP',
      value: file,
    });
    await expect(checkHostPath(join(dir, 'missing'), 'File')).rejects.toBeInstanceOf(VolumeSetupError);
    await expect(checkHostPath(file, 'Socket')).rejects.toBeInstanceOf(VolumeSetupError);
    await expect(checkHostPath(join(root, 'no', 'parent', 'f'), 'FileOrCreate')).rejects.toBeInstanceOf(
      VolumeSetupError,
    );
    await checkHostPath(join(root, 'anything'), '');
  });
});

describe('PodVolumeManager', () => {
  const configMaps = new Map<string, ConfigMap>([
    [
      'app-config',
      { metadata: { name: 'app-config', namespace: 'shop' }, data: { 'app.conf': 'debug=true', other: 'x' } },
    ],
  ]);
  const secrets = new Map<string, Secret>([
    [
      'db',
      {
        metadata: { name: 'db', namespace: 'shop' },
        data: { password: Buffer.from('hunter2').toString('base64') },
      },
    ],
  ]);
  const objects: ObjectSource = {
    getConfigMap: async (_ns, name) => configMaps.get(name),
    getSecret: async (_ns, name) => secrets.get(name),
  };
  const hostDir = () => join(root, 'host-data');

  function pod(): Pod {
    return makePod(
      {
        nodeName: 'node-a',
        serviceAccountName: 'builder',
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          {
            name: 'config',
            configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf' }] },
          },
          { name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } },
          {
            name: 'info',
            downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
          },
          {
            name: 'bundle',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 600 } },
                { configMap: { name: 'app-config', items: [{ key: 'other', path: 'other' }] } },
                { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
              ],
            },
          },
          { name: 'host', hostPath: { path: hostDir(), type: 'DirectoryOrCreate' } },
        ],
      },
      { namespace: 'shop', uid: 'pod-uid-7', labels: { b: '2', a: '1' } },
    );
  }

  it('lays volumes out like upstream and fills them', async () => {
    const mounter = new RecordingMounter();
    const tokenRequests: unknown[] = [];
    const manager = new PodVolumeManager({ rootDir: join(root, 'kubelet'), mounter });
    const mounted = await manager.setUp(pod(), {
      objects,
      tokens: {
        getToken: async (request) => {
          tokenRequests.push(request);
          return 'jwt-token';
        },
      },
    });
    const base = join(root, 'kubelet', 'pods', 'pod-uid-7', 'volumes');
    expect(mounted.get('scratch')).toEqual({ hostPath: join(base, 'kubernetes.io~empty-dir', 'scratch') });
    expect((await stat(mounted.get('scratch')!.hostPath)).mode & 0o777).toBe(0o777);
    expect(mounted.get('config')).toEqual({
      hostPath: join(base, 'kubernetes.io~configmap', 'config'),
      readOnly: true,
    });
    expect(await readFile(join(mounted.get('config')!.hostPath, 'conf/app.conf'), 'utf8')).toBe('debug=true');
    const password = join(mounted.get('creds')!.hostPath, 'password');
    expect(await readFile(password, 'utf8')).toBe('hunter2');
    expect((await stat(password)).mode & 0o777).toBe(0o400);
    expect(await readFile(join(mounted.get('info')!.hostPath, 'labels'), 'utf8')).toBe('a="1"\nb="2"');
    const bundle = mounted.get('bundle')!.hostPath;
    expect(await readFile(join(bundle, 'token'), 'utf8')).toBe('jwt-token');
    expect(await readFile(join(bundle, 'other'), 'utf8')).toBe('x');
    expect(await readFile(join(bundle, 'name'), 'utf8')).toBe('web');
    expect(tokenRequests).toEqual([
      {
        namespace: 'shop',
        serviceAccountName: 'builder',
        audiences: ['vault'],
        expirationSeconds: 600,
        boundPod: { name: 'web', uid: 'pod-uid-7' },
      },
    ]);
    expect(mounted.get('host')).toEqual({ hostPath: hostDir() });
    // Memory-backed volumes are tmpfs: the Memory emptyDir with its size limit, secret, downwardAPI, projected.
    expect([...mounter.mounted.keys()].map((path) => path.slice(base.length + 1)).sort()).toEqual([
      'kubernetes.io~downward-api/info',
      'kubernetes.io~empty-dir/mem',
      'kubernetes.io~projected/bundle',
      'kubernetes.io~secret/creds',
    ]);
    expect(mounter.mounted.get(join(base, 'kubernetes.io~empty-dir', 'mem'))).toBe(64 * 1024 * 1024);

    // An update to the configMap shows up on the next setUp, through the ..data swap.
    configMaps.set('app-config', {
      metadata: { name: 'app-config' },
      data: { 'app.conf': 'debug=false', other: 'y' },
    });
    await manager.setUp(pod(), { objects, tokens: { getToken: async () => 'jwt-token-2' } });
    expect(await readFile(join(mounted.get('config')!.hostPath, 'conf/app.conf'), 'utf8')).toBe(
      'debug=false',
    );
    expect(await readFile(join(bundle, 'token'), 'utf8')).toBe('jwt-token-2');

    await manager.tearDown('pod-uid-7');
    expect(mounter.mounted.size).toBe(0);
    const podDir = join(root, 'kubelet', 'pods', 'pod-uid-7');
    await expect(stat(podDir)).rejects.toThrow();
    expect(await readdir(join(root, 'kubelet', 'pods'))).toEqual([]);

    // Torn down again before the pod is forgotten (the cleanup does): the removed directory is not
    // looked up, which would cache its name again. The marker shows the second call did nothing.
    await mkdir(podDir);
    await manager.tearDown('pod-uid-7');
    expect((await stat(podDir)).isDirectory()).toBe(true);
    // Forgotten, a pod of that uid is torn down anew.
    manager.forgetPod('pod-uid-7');
    await manager.tearDown('pod-uid-7');
    await expect(stat(podDir)).rejects.toThrow();
  });

  it('fails with a VolumeSetupError naming the volume when a source is missing, unless optional', async () => {
    const manager = new PodVolumeManager({
      rootDir: join(root, 'kubelet2'),
      mounter: new RecordingMounter(),
    });
    const missing = makePod({ volumes: [{ name: 'cfg', configMap: { name: 'absent' } }] });
    await expect(manager.setUp(missing, { objects })).rejects.toMatchObject({
      code: 'VOLUME_SETUP',
      field: 'spec.volumes[cfg]',
    });
    const optional = makePod({ volumes: [{ name: 'cfg', configMap: { name: 'absent', optional: true } }] });
    const mounted = await manager.setUp(optional, { objects });
    expect(await readdir(mounted.get('cfg')!.hostPath)).toContain('..data');
    const badKey = makePod({
      volumes: [{ name: 's', secret: { secretName: 'db', items: [{ key: 'user', path: 'u' }] } }],
    });
    await expect(manager.setUp(badKey, { objects })).rejects.toBeInstanceOf(VolumeSetupError);
  });

  it('refuses an unsupported volume type', async () => {
    await mkdir(join(root, 'kubelet3'), { recursive: true });
    await writeFile(join(root, 'kubelet3', 'marker'), '');
    const manager = new PodVolumeManager({
      rootDir: join(root, 'kubelet3'),
      mounter: new RecordingMounter(),
    });
    const pvc = makePod({ volumes: [{ name: 'claim', persistentVolumeClaim: { claimName: 'c' } }] });
    await expect(manager.setUp(pvc, { objects })).rejects.toMatchObject({ field: 'spec.volumes[claim]' });
  });
});
