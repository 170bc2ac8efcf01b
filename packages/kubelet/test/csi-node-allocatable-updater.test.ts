import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { FakeClock, systemClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { type DriverRegistrar, FakeCsiPlugin, startDriverRegistrar } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSI_PLUGIN } from '../src/pluginmanager/plugin-handler';
import { PluginManager } from '../src/pluginmanager/plugin-manager';
import { apiCsiNodeInfo } from '../src/volumes/csi/api-csi-node-info';
import { CsiDrivers } from '../src/volumes/csi/csi-drivers';
import { CsiNodeAllocatableUpdater } from '../src/volumes/csi/csi-node-allocatable-updater';
import { CsiRegistrationHandler } from '../src/volumes/csi/csi-registration-handler';
import { waitFor } from './helpers/wait-for';

const NODE = 'updater-node';
const DRIVER = 'limited.csi';
const quiet = { info() {}, warn() {}, error() {} };
/** Lets the updater's NodeGetInfo and CSINode write finish between timer firings. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

let server: ApiServer;
let storage: StorageV1Api;
let root: string;
let plugin: FakeCsiPlugin;
let plugins: PluginManager;
let registrar: DriverRegistrar;
let updater: CsiNodeAllocatableUpdater;
let clock: FakeClock;
let periodMs: number;
const errors: string[] = [];

beforeEach(async () => {
  server = await startApiServer();
  const core = server.kubeConfig().makeApiClient(CoreV1Api);
  storage = server.kubeConfig().makeApiClient(StorageV1Api);
  await core.createNode({ body: { metadata: { name: NODE } } });
  root = await mkdtemp(join(tmpdir(), 'na-csi-updater-'));
  plugin = await FakeCsiPlugin.start({
    driverName: DRIVER,
    nodeId: 'n-7',
    maxVolumesPerNode: 12,
    socketPath: join(root, 'limited.sock'),
  });
  clock = new FakeClock();
  periodMs = 10_000;
  errors.length = 0;
  const drivers = new CsiDrivers();
  const nodeInfo = apiCsiNodeInfo(NODE, core, storage);
  updater = new CsiNodeAllocatableUpdater({
    drivers,
    nodeInfo,
    periodMs: () => periodMs,
    clock,
    logger: {
      ...quiet,
      error: (o: object, msg?: string) => errors.push(`${msg}: ${(o as { err: string }).err}`),
    },
  });
  plugins = new PluginManager({ rootDir: root, clock: systemClock, logger: quiet });
  plugins.addHandler(CSI_PLUGIN, new CsiRegistrationHandler(drivers, nodeInfo, quiet, updater));
  await plugins.start();
  registrar = await startDriverRegistrar({
    registrationDir: join(root, 'plugins_registry'),
    driverName: DRIVER,
    endpoint: plugin.socketPath,
  });
  await waitFor('registered', () => registrar.statuses.length > 0, 30_000);
});

afterEach(async () => {
  updater.stop();
  plugins.stop();
  await registrar.stop();
  await plugin.stop();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

async function count(): Promise<number | undefined> {
  const csiNode = await storage.readCSINode({ name: NODE });
  return csiNode.spec.drivers.find((d) => d.name === DRIVER)?.allocatable?.count;
}

describe('CsiNodeAllocatableUpdater (upstream csiNodeUpdater, MutableCSINodeAllocatableCount)', () => {
  it("asks NodeGetInfo every nodeAllocatableUpdatePeriodSeconds and writes the driver's new count", async () => {
    expect(await count()).toBe(12);
    plugin.opts.maxVolumesPerNode = 5;
    await clock.advanceAsync(periodMs - 1, settle);
    expect(await count()).toBe(12);
    await clock.advanceAsync(1, settle);
    await waitFor('the count updated', async () => (await count()) === 5, 10_000);
    // No limit any more: the count goes.
    plugin.opts.maxVolumesPerNode = 0;
    await clock.advanceAsync(periodMs, settle);
    await waitFor('the count removed', async () => (await count()) === undefined, 10_000);
    expect(errors).toEqual([]);
  });

  it('stops asking when the CSIDriver no longer sets a period, and when the driver goes', async () => {
    periodMs = 0;
    updater.sync(DRIVER);
    plugin.opts.maxVolumesPerNode = 3;
    await clock.advanceAsync(60_000, settle);
    expect(await count()).toBe(12);
    periodMs = 10_000;
    updater.sync(DRIVER);
    await registrar.stop();
    await waitFor(
      'driver gone',
      async () => (await storage.readCSINode({ name: NODE })).spec.drivers.length === 0,
      30_000,
    );
    await clock.advanceAsync(60_000, settle);
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodeGetInfo'))).toHaveLength(1);
  });

  it("logs a failed NodeGetInfo in upstream's words and tries again next period", async () => {
    await plugin.stop();
    await clock.advanceAsync(periodMs, settle);
    await waitFor('the failure logged', () => errors.length > 0, 30_000);
    expect(errors[0]).toMatch(
      /^Failed to update CSIDriver: failed to get NodeGetInfo from driver "limited\.csi": /,
    );
  });
});
