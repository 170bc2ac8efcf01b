import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { systemClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import {
  type DriverRegistrar,
  FakeCsiPlugin,
  parseCsiExchange,
  startDriverRegistrar,
} from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSI_PLUGIN } from '../src/pluginmanager/plugin-handler';
import { PluginManager } from '../src/pluginmanager/plugin-manager';
import { apiCsiNodeInfo } from '../src/volumes/csi/api-csi-node-info';
import { CsiDrivers } from '../src/volumes/csi/csi-drivers';
import { CsiRegistrationHandler, highestSupportedVersion } from '../src/volumes/csi/csi-registration-handler';
import { waitFor } from './helpers/wait-for';

const fidelity = join(import.meta.dirname, '..', '..', '..', 'fidelity', 'node-plugins-v1.36');
const quiet = { info() {}, warn() {}, error() {} };
const NODE = 'np-upstream';
const DRIVER = 'hostpath.csi.k8s.io';

let server: ApiServer;
let core: CoreV1Api;
let storage: StorageV1Api;
let root: string;
let plugin: FakeCsiPlugin;
let pm: PluginManager;
let drivers: CsiDrivers;
let registrar: DriverRegistrar | undefined;

beforeEach(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  storage = server.kubeConfig().makeApiClient(StorageV1Api);
  await core.createNode({ body: { metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } } } });
  root = await mkdtemp(join(tmpdir(), 'na-csi-register-'));
  plugin = await FakeCsiPlugin.start({
    driverName: DRIVER,
    nodeId: NODE,
    topology: { 'topology.hostpath.csi/node': NODE },
    socketPath: join(root, 'hostpath.sock'),
  });
  drivers = new CsiDrivers();
  pm = new PluginManager({ rootDir: root, clock: systemClock, logger: quiet });
  pm.addHandler(CSI_PLUGIN, new CsiRegistrationHandler(drivers, apiCsiNodeInfo(NODE, core, storage), quiet));
  await pm.start();
});

afterEach(async () => {
  pm.stop();
  await registrar?.stop();
  registrar = undefined;
  await plugin.stop();
  await server.close();
  await rm(root, { recursive: true, force: true });
});

describe('CSI driver registration', () => {
  it("writes the CSINode and the Node's topology label as upstream's kubelet did for the hostpath driver", async () => {
    registrar = await startDriverRegistrar({
      registrationDir: join(root, 'plugins_registry'),
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    const reg = registrar;
    await waitFor('the registration verdict', () => reg.statuses.length > 0, 30_000);
    expect(reg.statuses).toEqual([{ pluginRegistered: true, error: '' }]);

    const csiNode = await storage.readCSINode({ name: NODE });
    const node = await core.readNode({ name: NODE });
    expect(csiNode.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata?.uid },
    ]);
    const drivers = (csiNode.spec.drivers ?? []).map(
      (d) => `${d.name}:${d.nodeID}:${JSON.stringify(d.topologyKeys)}`,
    );
    const label = `topology.hostpath.csi/node=${node.metadata?.labels?.['topology.hostpath.csi/node']}`;
    // The recorded upstream outcome, line for line.
    const cases = await readFile(join(fidelity, 'cases-upstream.txt'), 'utf8');
    expect(cases).toContain(`PASS csi-register: CSINode drivers [${drivers.join(' ')}], node label ${label}`);
    expect(csiNode.spec.drivers?.[0]?.allocatable).toBeUndefined();

    // The kubelet's only call at registration is NodeGetInfo, with upstream's (empty) request.
    const recorded = parseCsiExchange(await readFile(join(fidelity, 'csi-hostpath-exchange.txt'), 'utf8'));
    expect(plugin.exchange()).toEqual([recorded.find(([m]) => m === '/csi.v1.Node/NodeGetInfo')]);
    expect(drivers.length).toBe(1);
  });

  it('takes the driver out of the CSINode when its registration socket goes, keeping the label', async () => {
    registrar = await startDriverRegistrar({
      registrationDir: join(root, 'plugins_registry'),
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    await waitFor('the driver registered', () => drivers.names().includes(DRIVER), 30_000);
    await registrar.stop();
    registrar = undefined;
    await waitFor('the driver deregistered', () => !drivers.names().includes(DRIVER), 30_000);
    await waitFor(
      'the CSINode emptied',
      async () => ((await storage.readCSINode({ name: NODE })).spec.drivers ?? []).length === 0,
      30_000,
    );
    const node = await core.readNode({ name: NODE });
    expect(node.metadata?.labels?.['topology.hostpath.csi/node']).toBe(NODE);
  });

  it('writes allocatable.count from max_volumes_per_node', async () => {
    const limited = await FakeCsiPlugin.start({
      driverName: 'limited.csi',
      nodeId: 'n-7',
      maxVolumesPerNode: 12,
      socketPath: join(root, 'limited.sock'),
    });
    try {
      registrar = await startDriverRegistrar({
        registrationDir: join(root, 'plugins_registry'),
        driverName: 'limited.csi',
        endpoint: limited.socketPath,
      });
      const reg = registrar;
      await waitFor('the registration verdict', () => reg.statuses.length > 0, 30_000);
      const csiNode = await storage.readCSINode({ name: NODE });
      expect(csiNode.spec.drivers).toEqual([
        { name: 'limited.csi', nodeID: 'n-7', topologyKeys: [], allocatable: { count: 12 } },
      ]);
    } finally {
      await limited.stop();
    }
  });

  it("refuses a driver with no CSI 1.x version, telling it upstream's reason, and writes nothing", async () => {
    registrar = await startDriverRegistrar({
      registrationDir: join(root, 'plugins_registry'),
      driverName: DRIVER,
      endpoint: plugin.socketPath,
      supportedVersions: ['0.3.0'],
    });
    const reg = registrar;
    await waitFor('the registration verdict', () => reg.statuses.length > 0, 30_000);
    expect(reg.statuses[0]).toEqual({
      pluginRegistered: false,
      error: `RegisterPlugin error -- plugin validation failed with err: validation failed for CSI Driver ${DRIVER} at endpoint ${plugin.socketPath}: kubernetes.io/csi: ValidatePlugin for CSI driver "${DRIVER}" failed. None of the versions specified ["0.3.0"] are supported. err=all plugin versions are unsupported`,
    });
    expect(plugin.exchange()).toEqual([]);
    await expect(storage.readCSINode({ name: NODE })).rejects.toMatchObject({ code: 404 });
  });

  it('tells the driver its NodeGetInfo failed, writes nothing and forgets it; a new socket registers it again', async () => {
    plugin.failNext('NodeGetInfo', { code: 14, message: 'node service not ready' });
    const dir = join(root, 'plugins_registry');
    registrar = await startDriverRegistrar({
      registrationDir: dir,
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    const first = registrar;
    await waitFor('the registration verdict', () => first.statuses.length > 0, 30_000);
    expect(first.statuses[0]?.pluginRegistered).toBe(false);
    expect(first.statuses[0]?.error).toBe(
      `RegisterPlugin error -- plugin registration failed with err: NodeGetInfo: plugin unreachable at ${plugin.socketPath}: node service not ready; is the driver running, and is this its socket?`,
    );
    expect(drivers.names()).toEqual([]);
    await expect(storage.readCSINode({ name: NODE })).rejects.toMatchObject({ code: 404 });
    // As node-driver-registrar does after a failed registration: it restarts, making its socket anew.
    await first.stop();
    registrar = await startDriverRegistrar({
      registrationDir: dir,
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    const second = registrar;
    await waitFor('the second verdict', () => second.statuses.length > 0, 30_000);
    expect(second.statuses).toEqual([{ pluginRegistered: true, error: '' }]);
    expect(drivers.names()).toEqual([DRIVER]);
  });

  it('picks the highest 1.x version a driver lists', () => {
    expect(highestSupportedVersion(['0.3.0', '1.0.0', 'v1.5.2', 'garbage']).text).toBe('1.5.2');
    expect(() => highestSupportedVersion(['2.0.0'])).toThrow('all plugin versions are unsupported');
  });
});
