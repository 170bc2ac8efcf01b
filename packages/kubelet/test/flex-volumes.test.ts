import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod, Volume } from '../src/api/pod-types';
import type { ObjectSource } from '../src/env/resolve-env';
import { parseDriverOutput } from '../src/volumes/flex/flex-driver-call';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { makePod } from './helpers/fixtures';
import { flexDriverCalls, installFlexDriver } from './helpers/flex-driver';
import { notReady } from './helpers/volumes-not-ready';

let root: string;
let pluginDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `na-kubelet-flex-${process.pid}-`));
  pluginDir = join(root, 'volume-plugins');
  await mkdir(pluginDir);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const secret = { metadata: { name: 'creds' }, type: 'vendor/share', data: { password: 'c2VjcmV0' } };
const objects: ObjectSource = {
  getConfigMap: async () => undefined,
  getSecret: async (_namespace, name) => (name === 'creds' ? (secret as never) : undefined),
};

function podWith(volume: Volume): Pod {
  return makePod(
    {
      volumes: [volume],
      serviceAccountName: 'builder',
      securityContext: { fsGroup: 2000 },
      containers: [
        { name: 'app', image: 'busybox', volumeMounts: [{ name: volume.name, mountPath: '/data' }] },
      ],
    },
    { uid: 'uid-flex', name: 'web', namespace: 'team' },
  );
}

const flexVolume = (extra: Record<string, unknown> = {}): Volume => ({
  name: 'share',
  flexVolume: { driver: 'vendor/share', fsType: 'cifs', options: { server: '192.0.2.7' }, ...extra },
});

function manager(volumePluginDir = pluginDir): {
  volumes: PodVolumeManager;
  mounter: RecordingMounter;
  errors: string[];
  warnings: string[];
} {
  const mounter = new RecordingMounter();
  const errors: string[] = [];
  const warnings: string[] = [];
  const logger = {
    info() {},
    warn: (_: object, msg?: string) => warnings.push(msg ?? ''),
    error: (fields: object, msg?: string) => errors.push([msg ?? '', ...Object.values(fields)].join(' ')),
  };
  const volumes = new PodVolumeManager({ rootDir: root, mounter, volumePluginDir, logger });
  return { volumes, mounter, errors, warnings };
}

const volumeDir = () => join(root, 'pods', 'uid-flex', 'volumes', 'vendor~share', 'share');

describe('flexVolume through a driver under volumePluginDir (upstream pkg/volume/flexvolume)', () => {
  it('matches no plugin until the driver is installed, then runs init once and mount with upstream options', async () => {
    const { volumes } = manager();
    const pod = podWith(flexVolume({ secretRef: { name: 'creds' } }));
    const before = await notReady(volumes.setUp(pod, { objects }));
    expect(before.events.at(-1)).toContain(
      'failed to get Plugin from volumeSpec for volume "share" err=no volume plugin matched',
    );

    const driver = await installFlexDriver(pluginDir, 'share');
    const mounted = await volumes.setUp(pod, { objects });
    expect(mounted.get('share')).toEqual({ hostPath: volumeDir(), readOnly: false });
    const options = {
      'kubernetes.io/fsGroup': '2000',
      'kubernetes.io/fsType': 'cifs',
      'kubernetes.io/pod.name': 'web',
      'kubernetes.io/pod.namespace': 'team',
      'kubernetes.io/pod.uid': 'uid-flex',
      'kubernetes.io/pvOrVolumeName': 'share',
      'kubernetes.io/readwrite': 'rw',
      'kubernetes.io/secret/password': 'c2VjcmV0',
      'kubernetes.io/serviceAccount.name': 'builder',
      server: '192.0.2.7',
    };
    expect(await flexDriverCalls(driver)).toEqual([
      ['init'],
      ['mount', volumeDir(), JSON.stringify(options)],
    ]);
    // Set up: the next sync leaves it alone.
    await volumes.setUp(pod, { objects });
    expect(await flexDriverCalls(driver)).toHaveLength(2);
  });

  it("unmounts through the driver and removes the volume's directory", async () => {
    const { volumes } = manager();
    const driver = await installFlexDriver(pluginDir, 'share');
    await volumes.setUp(podWith(flexVolume()), { objects });
    await volumes.tearDown('uid-flex');
    expect((await flexDriverCalls(driver)).at(-1)).toEqual(['unmount', volumeDir()]);
    await expect(stat(join(root, 'pods', 'uid-flex'))).rejects.toThrow();
  });

  it('unmounts itself when the driver has no unmount (Not supported)', async () => {
    const { volumes, mounter } = manager();
    await installFlexDriver(pluginDir, 'share', { unmount: '{"status":"Not supported"}' });
    await volumes.setUp(podWith(flexVolume()), { objects });
    await mounter.mountTmpfs(volumeDir());
    await volumes.tearDown('uid-flex');
    expect(await mounter.isMountPoint(volumeDir())).toBe(false);
  });

  it("reports the driver's failure as upstream's FailedMount and removes the empty directory", async () => {
    const { volumes } = manager();
    await installFlexDriver(pluginDir, 'share', {
      mount: '{"status":"Failure","message":"share unreachable"}',
    });
    const error = await notReady(volumes.setUp(podWith(flexVolume()), { objects }));
    expect(error.events).toContain(
      'MountVolume.SetUp failed for volume "share" : mount command failed, status: Failure, reason: share unreachable',
    );
  });

  it("refuses a Secret not of the driver's type, and an attaching driver, by name", async () => {
    const { volumes } = manager();
    await installFlexDriver(pluginDir, 'share');
    secret.type = 'Opaque';
    try {
      const error = await notReady(
        volumes.setUp(podWith(flexVolume({ secretRef: { name: 'creds' } })), { objects }),
      );
      expect(error.events).toContain(
        'MountVolume.SetUp failed for volume "share" : couldn\'t get secret team/creds err: cannot get secret of type vendor/share',
      );
    } finally {
      secret.type = 'vendor/share';
    }
    await installFlexDriver(pluginDir, 'disk', { init: '{"status":"Success"}' });
    const attaching = await notReady(
      volumes.setUp(podWith({ name: 'disk', flexVolume: { driver: 'vendor/disk' } }), { objects }),
    );
    expect(attaching.events.join('\n')).toContain(
      'flexVolume driver "vendor/disk" attaches (its init reported attach: true)',
    );
  });

  it('logs a driver whose init fails, and its volumes match no plugin', async () => {
    const { volumes, errors } = manager();
    await installFlexDriver(pluginDir, 'share', {
      init: '{"status":"Failure","message":"missing mount.cifs"}',
    });
    const error = await notReady(volumes.setUp(podWith(flexVolume()), { objects }));
    expect(error.events.at(-1)).toContain('no volume plugin matched');
    expect(errors).toContain(
      'Error dynamically probing plugins: Error creating Flexvolume plugin from directory vendor~share, skipping. Error: init command failed, status: Failure, reason: missing mount.cifs vendor~share',
    );
  });
});

describe("the drivers' directory at start (upstream flexVolumeProber.Init)", () => {
  it("is made 0755 when missing, with upstream's warning, and made again when removed later", async () => {
    const missing = join(root, 'libexec', 'kubelet-plugins', 'volume', 'exec');
    const { volumes, warnings } = manager(missing);
    await volumes.initPlugins();
    expect(((await stat(missing)).mode & 0o777).toString(8)).toBe('755');
    expect(warnings).toEqual([`Flexvolume plugin directory at ${missing} does not exist. Recreating.`]);
    // Present: nothing to say at the next start.
    await manager(missing).volumes.initPlugins();
    expect(warnings).toHaveLength(1);

    await rm(missing, { recursive: true });
    await notReady(volumes.setUp(podWith(flexVolume()), { objects }));
    expect((await stat(missing)).isDirectory()).toBe(true);
    expect(warnings).toHaveLength(2);
  });

  it('turns FlexVolume off when it cannot be made, as upstream falls back to a prober that finds nothing', async () => {
    // sysfs refuses a new directory, as a read-only /usr would (EPERM there, EROFS here).
    const refused = join('/sys', `na-flex-${process.pid}`, 'exec');
    const { volumes, errors } = manager(refused);
    await volumes.initPlugins();
    expect(errors).toEqual([
      `Error initializing dynamic plugin prober Error (re-)creating driver directory: mkdir ${join('/sys', `na-flex-${process.pid}`)}: operation not permitted`,
    ]);
    const error = await notReady(volumes.setUp(podWith(flexVolume()), { objects }));
    expect(error.events.at(-1)).toContain('no volume plugin matched');
    // Off for the kubelet's life: no probe, so no second attempt to make it.
    expect(errors).toHaveLength(1);
  });
});

describe("a driver's output (upstream handleCmdResponse)", () => {
  it('keeps the default capabilities a driver leaves out', () => {
    expect(
      parseDriverOutput('init', '{"status":"Success","capabilities":{"attach":false}}').capabilities,
    ).toEqual({
      attach: false,
      selinuxRelabel: true,
      supportsMetrics: false,
      fsGroup: true,
      requiresFSResize: true,
    });
  });

  it('names output that is not JSON', () => {
    expect(() => parseDriverOutput('mount', 'oops')).toThrow(
      /^failed to unmarshal output for command: mount, output: "oops", error: /,
    );
    expect(() => parseDriverOutput('mount', '{"status":"Not supported"}')).toThrow(/^Not supported$/);
  });
});
