import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { systemClock } from '@nodeagent/primitives';
import { SampleDevicePlugin } from '@nodeagent/testing';
import { type DriverRegistrar, startDriverRegistrar } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceManager } from '../src/devicemanager/device-manager';
import { DEVICE_PLUGIN } from '../src/pluginmanager/plugin-handler';
import { PluginManager } from '../src/pluginmanager/plugin-manager';
import { waitFor } from './helpers/wait-for';

const quiet = { info() {}, warn() {}, error() {} };
const RESOURCE = 'example.com/resource';

let dir: string;
let manager: DeviceManager;
let plugins: PluginManager;
let plugin: SampleDevicePlugin;
const registrars: DriverRegistrar[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-dp-watcher-${process.pid}-`));
  const pluginDir = join(dir, 'device-plugins');
  manager = new DeviceManager({ pluginDir, grpc });
  await manager.start(() => []);
  plugins = new PluginManager({ rootDir: dir, clock: systemClock, logger: quiet });
  plugins.addHandler(DEVICE_PLUGIN, manager.watcherHandler());
  await plugins.start();
  // Served only: it registers through plugins_registry, not kubelet.sock.
  plugin = new SampleDevicePlugin({ pluginDir, deviceDir: join(dir, 'devices'), registerWithKubelet: false });
  await plugin.start();
});

afterEach(async () => {
  for (const registrar of registrars.splice(0)) await registrar.stop();
  plugins.stop();
  manager.stop();
  await plugin.stop();
  await rm(dir, { recursive: true, force: true });
});

function register(name: string, supportedVersions: string[], socketName = 'example-dp-reg.sock') {
  return startDriverRegistrar({
    registrationDir: join(dir, 'plugins_registry'),
    type: DEVICE_PLUGIN,
    driverName: name,
    endpoint: plugin.socketPath,
    supportedVersions,
    socketName,
  }).then((registrar) => {
    registrars.push(registrar);
    return registrar;
  });
}

describe('device plugins registering through plugins_registry (upstream GetPluginHandler)', () => {
  it('marks the way deprecated, connects the plugin at its endpoint and advertises its devices; its socket going marks them unhealthy', async () => {
    expect(existsSync(join(dir, 'device-plugins', 'DEPRECATION'))).toBe(true);
    const registrar = await register(RESOURCE, ['v1beta1']);
    await waitFor('registered', () => registrar.statuses.length > 0, 30_000);
    expect(registrar.statuses).toEqual([{ pluginRegistered: true, error: '' }]);
    await waitFor('devices', () => manager.getCapacity().allocatable[RESOURCE] === '2', 10_000);
    expect(plugin.log.slice(0, 1)).toEqual(['ListAndWatch']);
    await registrar.stop();
    registrars.splice(0);
    await waitFor('devices unhealthy', () => manager.getCapacity().allocatable[RESOURCE] === '0', 30_000);
    expect(manager.getCapacity().capacity[RESOURCE]).toBe('2');
  });

  it("refuses a plugin without v1beta1 or with a name that is no extended resource, in upstream's words", async () => {
    const oldVersion = await register(RESOURCE, ['v1alpha1'], 'old-reg.sock');
    const badName = await register('resource', ['v1beta1'], 'bad-reg.sock');
    await waitFor(
      'both answered',
      () => oldVersion.statuses.length > 0 && badName.statuses.length > 0,
      30_000,
    );
    expect(oldVersion.statuses).toEqual([
      {
        pluginRegistered: false,
        error:
          'RegisterPlugin error -- plugin validation failed with err: manager version, v1beta1, is not among plugin supported versions [v1alpha1]',
      },
    ]);
    expect(badName.statuses).toEqual([
      {
        pluginRegistered: false,
        error:
          'RegisterPlugin error -- plugin validation failed with err: invalid name of device plugin socket: the ResourceName "resource" is invalid',
      },
    ]);
    expect(manager.getCapacity().capacity).toEqual({});
  });
});
