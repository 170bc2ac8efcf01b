import { chown, lstat, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildContainerConfig } from '../src/cri/container-config';
import { buildSandboxConfig } from '../src/cri/sandbox-config';
import { fsGroupMode, podFSGroup, setVolumeOwnership } from '../src/volumes/fs-group';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod } from './helpers/fixtures';

const group = 4321;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-fs-group-${process.pid}-`));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('fsGroup volume ownership', () => {
  it('computes upstream modes: group rw (ro for read-only volumes), setgid and search on dirs', () => {
    expect(fsGroupMode(0o644, false, false)).toBe(0o664);
    expect(fsGroupMode(0o600, false, true)).toBe(0o640);
    expect(fsGroupMode(0o755, true, false)).toBe(0o2775);
    expect(fsGroupMode(0o700, true, true)).toBe(0o2750);
  });

  it('re-groups a whole tree, keeping symlink modes', async () => {
    await mkdir(join(dir, 'sub'), { mode: 0o700 });
    await writeFile(join(dir, 'sub', 'file'), 'x', { mode: 0o600 });
    await import('node:fs/promises').then((fs) => fs.symlink('sub/file', join(dir, 'link')));
    expect(await setVolumeOwnership(dir, group)).toBe(true);
    const file = await stat(join(dir, 'sub', 'file'));
    expect(file.gid).toBe(group);
    expect(file.mode & 0o7777).toBe(0o660);
    const sub = await stat(join(dir, 'sub'));
    expect(sub.mode & 0o7777).toBe(0o2770);
    expect((await lstat(join(dir, 'link'))).gid).toBe(group);
  });

  it('OnRootMismatch skips the walk when the root already matches, Always never does', async () => {
    await writeFile(join(dir, 'file'), 'x', { mode: 0o600 });
    expect(await setVolumeOwnership(dir, group, { policy: 'OnRootMismatch' })).toBe(true);
    // New files inherit the group through the setgid root; one put back to group 0 stays so
    // under OnRootMismatch...
    await writeFile(join(dir, 'late'), 'y', { mode: 0o600 });
    expect((await stat(join(dir, 'late'))).gid).toBe(group);
    await chown(join(dir, 'late'), 0, 0);
    expect(await setVolumeOwnership(dir, group, { policy: 'OnRootMismatch' })).toBe(false);
    expect((await stat(join(dir, 'late'))).gid).not.toBe(group);
    // ...and is fixed by Always.
    expect(await setVolumeOwnership(dir, group, { policy: 'Always' })).toBe(true);
    expect((await stat(join(dir, 'late'))).gid).toBe(group);
  });

  it('reads fsGroup and the change policy from the pod', () => {
    expect(podFSGroup(makePod())).toBeUndefined();
    expect(podFSGroup(makePod({ securityContext: { fsGroup: 7 } }))).toEqual({
      fsGroup: 7,
      policy: 'Always',
    });
    const onRoot = makePod({
      securityContext: { fsGroup: 7, fsGroupChangePolicy: 'OnRootMismatch' } as never,
    });
    expect(podFSGroup(onRoot)?.policy).toBe('OnRootMismatch');
  });

  it('sets up emptyDir and configMap volumes group-owned by fsGroup', async () => {
    const manager = new PodVolumeManager({ rootDir: dir, mounter: new RecordingMounter() });
    const pod = makePod(
      {
        securityContext: { fsGroup: group, runAsUser: 1000, supplementalGroups: [5000] },
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'settings', configMap: { name: 'cm' } },
        ],
      },
      { uid: 'fs-group-pod' },
    );
    const volumes = await manager.setUp(pod, {
      objects: {
        getConfigMap: async () => ({ metadata: { name: 'cm' }, data: { 'app.conf': 'x=1' } }),
        getSecret: async () => undefined,
      },
      nodeName: 'node-a',
      hostIPs: [],
      podIPs: [],
    });
    const scratch = await stat(volumes.get('scratch')!.hostPath);
    expect(scratch.gid).toBe(group);
    expect(scratch.mode & 0o7777).toBe(0o2777);
    const conf = await stat(join(volumes.get('settings')!.hostPath, 'app.conf'));
    expect(conf.gid).toBe(group);
    expect(conf.mode & 0o777).toBe(0o644);
    // A second sync keeps the setgid bit emptyDir got.
    await manager.setUp(pod, {
      objects: {
        getConfigMap: async () => ({ metadata: { name: 'cm' }, data: { 'app.conf': 'x=1' } }),
        getSecret: async () => undefined,
      },
      nodeName: 'node-a',
      hostIPs: [],
      podIPs: [],
    });
    expect((await stat(volumes.get('scratch')!.hostPath)).mode & 0o7777).toBe(0o2777);
  });

  it('passes fsGroup, supplementalGroups, runAsUser and runAsGroup through to CRI', () => {
    const pod = makePod({
      securityContext: { fsGroup: group, supplementalGroups: [5000], runAsUser: 1000, runAsGroup: 3000 },
    });
    const sandbox = buildSandboxConfig(pod, { attempt: 0, clusterDNS: [], clusterDomain: '' });
    expect(sandbox.linux.securityContext.supplementalGroups).toEqual([group, 5000]);
    expect(sandbox.linux.securityContext.runAsUser).toEqual({ value: 1000 });
    const container = buildContainerConfig(pod, pod.spec.containers[0]!, {
      restartCount: 0,
      env: [],
      volumes: new Map(),
      memoryCapacity: 1024 ** 3,
    });
    expect(container.linux.securityContext.supplementalGroups).toEqual([group, 5000]);
    expect(container.linux.securityContext.runAsGroup).toEqual({ value: 3000 });
  });
});
