import { join } from 'node:path';
import type { V1CSIDriverSpec } from '@kubernetes/client-node';
import type { ApiServerOptions } from '@nodeagent/testing';
import {
  type DriverRegistrar,
  FakeCsiPlugin,
  type FakeCsiPluginOptions,
  startDriverRegistrar,
} from '@nodeagent/testing/csi';
import type { Kubelet } from '../../src/kubelet';
import { apiCsiNodeInfo } from '../../src/volumes/csi/api-csi-node-info';
import { apiCsiStorageObjects } from '../../src/volumes/csi/api-csi-storage-objects';
import { type CsiNodeApiServer, DRIVER, NODE, startCsiNodeApiServer } from './csi-node-api-server';
import { type EngineHarness, type KubeletOverrides, startEngine } from './engine';
import { waitFor } from './wait-for';

/**
 * The engine's kubelet with a FakeCsiPlugin registered through `<root-dir>/plugins_registry` by
 * the node-driver-registrar, against an in-process API server holding NODE and DRIVER's CSIDriver.
 */
export interface CsiEngineHarness extends CsiNodeApiServer {
  h: EngineHarness;
  plugin: FakeCsiPlugin;
  registrar: DriverRegistrar;
  /**
   * Drives `kubelet`'s plugin manager until the registrar has seen `count` registrations: the
   * kubelet runs on a fake clock, so its reconcile loop is turned by hand.
   */
  registered(kubelet: Kubelet, count: number): Promise<void>;
  close(): Promise<void>;
}

export interface CsiEngineHarnessOptions {
  /** The CSIDriver object's spec. */
  csiDriver: V1CSIDriverSpec;
  server?: ApiServerOptions;
  plugin?: Partial<FakeCsiPluginOptions>;
  /** More kubelet options, made from the started plugin (a mount table that knows its mounts, say). */
  overrides?: (plugin: FakeCsiPlugin) => KubeletOverrides;
}

/** Starts it all and waits for the first registration; on a failure stops what had started. */
export async function startCsiEngineHarness(opts: CsiEngineHarnessOptions): Promise<CsiEngineHarness> {
  const api = await startCsiNodeApiServer(opts);
  const started: { plugin?: FakeCsiPlugin; h?: EngineHarness; registrar?: DriverRegistrar } = {};
  const close = async () => {
    await started.h?.close();
    await started.registrar?.stop();
    await started.plugin?.stop();
    await api.server.close();
  };
  try {
    const plugin = await FakeCsiPlugin.start({ driverName: DRIVER, nodeId: NODE, ...opts.plugin });
    started.plugin = plugin;
    const extra = opts.overrides?.(plugin) ?? {};
    const h = await startEngine({
      ...extra,
      api: {
        ...extra.api,
        csi: {
          ...extra.api?.csi,
          nodeInfo: apiCsiNodeInfo(NODE, api.core, api.storage),
          objects: apiCsiStorageObjects(api.core, api.storage),
        },
      },
    });
    started.h = h;
    const registrar = await startDriverRegistrar({
      registrationDir: join(h.dir, 'root', 'plugins_registry'),
      driverName: DRIVER,
      endpoint: plugin.socketPath,
    });
    started.registrar = registrar;
    const harness: CsiEngineHarness = {
      ...api,
      h,
      plugin,
      registrar,
      async registered(kubelet, count) {
        await waitFor(
          'the driver registered',
          () => {
            kubelet.pluginManager.reconcile();
            return registrar.statuses.length >= count;
          },
          30_000,
        );
      },
      close,
    };
    await harness.registered(h.kubelet, 1);
    return harness;
  } catch (error) {
    await close();
    throw error;
  }
}
