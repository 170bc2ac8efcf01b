import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Secret } from '../src/api/pod-types';
import { execFlexRunner } from '../src/volumes/flex/flex-driver-call';
import { FlexDrivers } from '../src/volumes/flex/flex-drivers';
import { FlexVolumes } from '../src/volumes/flex/flex-volumes';
import { InTreeReconstruction } from '../src/volumes/in-tree-reconstruction';
import { RecordingMounter } from '../src/volumes/mounter';
import { volumePluginDirs } from '../src/volumes/pod-volume-manager';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';
import { flexDriverCalls, installFlexDriver } from './helpers/flex-driver';
import { type LoggedLine, recordingLogger } from './helpers/recording-logger';

let h: EngineHarness | undefined;
let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), `na-in-tree-reconstruction-${process.pid}-`));
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await rm(scratch, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe('volumes of pods deleted while the kubelet was down (upstream reconstruction, non-CSI plugins)', () => {
  it("unmounts the gone pod's Secret tmpfs and removes its emptyDir's files, so its directory goes; the pod still there keeps its volumes", async () => {
    // One mount table for both kubelets: what the first mounted is still mounted for the second.
    const mounter = new RecordingMounter();
    h = await startEngine({ mounter });
    h.secrets.set('default/token', {
      metadata: { name: 'token', namespace: 'default' },
      data: { key: Buffer.from('v').toString('base64') },
    } as Secret);
    const podWithVolumes = (name: string) => {
      const pod = testPod(
        {
          volumes: [
            { name: 'token', secret: { secretName: 'token' } },
            { name: 'scratch', emptyDir: {} },
          ],
        },
        name,
      );
      pod.spec.containers[0]!.volumeMounts = [
        { name: 'token', mountPath: '/token' },
        { name: 'scratch', mountPath: '/scratch' },
      ];
      return pod;
    };
    const keep = podWithVolumes('keep');
    const gone = podWithVolumes('gone');
    h.kubelet.addPod(keep);
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    const root = join(h.dir, 'root');
    const volume = (uid: string, plugin: string, name: string) =>
      join(root, 'pods', uid, 'volumes', plugin, name);
    const goneUid = gone.metadata.uid!;
    const keepUid = keep.metadata.uid!;
    const goneToken = volume(goneUid, volumePluginDirs.secret, 'token');
    const goneScratch = volume(goneUid, volumePluginDirs.emptyDir, 'scratch');
    // What the container wrote into its emptyDir.
    await writeFile(join(goneScratch, 'data'), 'written by the container');
    expect(await mounter.isMountPoint(goneToken)).toBe(true);

    await h.kubelet.stop();
    const next = await h.restart();
    next.addPod(keep);
    await next.pleg.relist();
    await next.settle();
    await next.markSourcesReady();

    // Torn down as upstream's reconciler tears down a reconstructed volume of a pod not wanted.
    expect(await mounter.isMountPoint(goneToken)).toBe(false);
    expect(await exists(goneToken)).toBe(false);
    expect(await exists(goneScratch)).toBe(false);
    // The pod still there keeps both.
    expect(await mounter.isMountPoint(volume(keepUid, volumePluginDirs.secret, 'token'))).toBe(true);
    expect(await readdir(volume(keepUid, volumePluginDirs.secret, 'token'))).toContain('key');

    // Once the runtime holds nothing of the gone pod (its containers were stopped as an orphan's,
    // then removed), its whole directory goes.
    const { items } = await h.client.listPodSandbox({});
    for (const sandbox of items.filter((s) => s.metadata?.uid === goneUid))
      await h.client.removePodSandbox({ podSandboxId: sandbox.id });
    await next.pleg.relist();
    await next.markSourcesReady();
    expect(await exists(join(root, 'pods', goneUid))).toBe(false);
    expect(await exists(join(root, 'pods', keepUid))).toBe(true);
  });

  it('tears down local and nfs mounts and FlexVolumes through their driver, leaves plugins it does not have, and tries a failed teardown again', async () => {
    const root = join(scratch, 'root');
    const pluginDir = join(scratch, 'volume-plugins');
    const driver = await installFlexDriver(pluginDir, 'share');
    const volumes = join(root, 'pods', 'uid-gone', 'volumes');
    const local = join(volumes, volumePluginDirs.local, 'pv-local');
    const nfs = join(volumes, volumePluginDirs.nfs, 'pv-nfs');
    const flex = join(volumes, 'vendor~share', 'shared');
    const rbd = join(volumes, 'kubernetes.io~rbd', 'disk');
    const kept = join(root, 'pods', 'uid-keep', 'volumes', volumePluginDirs.local, 'pv-kept');
    for (const dir of [local, nfs, flex, rbd, kept]) await mkdir(dir, { recursive: true });
    const mounter = new RecordingMounter();
    for (const dir of [local, nfs, kept]) await mounter.bindMount('/srv', dir, false);
    let refuse = true;
    const unmount = mounter.unmount.bind(mounter);
    mounter.unmount = async (target: string) => {
      if (target === nfs && refuse) {
        refuse = false;
        throw new Error('umount: target is busy');
      }
      await unmount(target);
    };
    const flexVolumes = new FlexVolumes(
      new FlexDrivers(pluginDir, execFlexRunner, recordingLogger([])),
      execFlexRunner,
      mounter,
    );
    const logs: LoggedLine[] = [];
    const reconstruction = new InTreeReconstruction(root, mounter, flexVolumes, recordingLogger(logs));
    await reconstruction.reconstruct();

    await reconstruction.cleanUp((uid) => uid === 'uid-keep');
    expect(await exists(local)).toBe(false);
    expect(await mounter.isMountPoint(local)).toBe(false);
    expect(await exists(flex)).toBe(false);
    expect((await flexDriverCalls(driver)).map(([call]) => call)).toEqual(['init', 'unmount']);
    // A plugin this kubelet does not have is left alone, as upstream leaves a volume it cannot reconstruct.
    expect(await exists(rbd)).toBe(true);
    // The pod still there: untouched.
    expect(await mounter.isMountPoint(kept)).toBe(true);
    // The busy nfs mount: logged, still there, and tried again.
    expect(await exists(nfs)).toBe(true);
    expect(
      logs.filter((l) => l.msg === 'volumeHandler.UnmountVolumeHandler for UnmountVolume failed'),
    ).toEqual([
      {
        msg: 'volumeHandler.UnmountVolumeHandler for UnmountVolume failed',
        obj: { podUID: 'uid-gone', volumeName: 'pv-nfs', err: 'Error: umount: target is busy' },
      },
    ]);
    await reconstruction.cleanUp((uid) => uid === 'uid-keep');
    expect(await exists(nfs)).toBe(false);
    expect(await mounter.isMountPoint(nfs)).toBe(false);
    expect(
      logs
        .filter((l) => l.msg === 'UnmountVolume.TearDown succeeded for volume')
        .map((l) => l.obj.pluginName)
        .sort(),
    ).toEqual(['kubernetes.io/local-volume', 'kubernetes.io/nfs', 'vendor/share']);
  });
});
