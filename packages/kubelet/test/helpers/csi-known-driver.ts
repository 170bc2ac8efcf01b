import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1CSIDriverSpec } from '@kubernetes/client-node';
import { FakeCsiPlugin, type FakeCsiPluginOptions } from '@nodeagent/testing/csi';
import { CsiDrivers } from '../../src/volumes/csi/csi-drivers';
import { type CsiNodeApiServer, startCsiNodeApiServer } from './csi-node-api-server';

/**
 * A FakeCsiPlugin entered in a CsiDrivers as its registration would enter it (no plugin manager,
 * no registrar), for tests of the CSI volume code alone; the API server holds its CSIDriver.
 */
export interface CsiKnownDriver extends CsiNodeApiServer {
  /** A temporary dir for the test's root dir. */
  root: string;
  plugin: FakeCsiPlugin;
  drivers: CsiDrivers;
  /** Forgets the driver, stops the plugin and the server, removes `root`. */
  close(): Promise<void>;
}

export async function startCsiKnownDriver(opts: {
  driverName: string;
  csiDriver: V1CSIDriverSpec;
  plugin: Omit<FakeCsiPluginOptions, 'driverName'>;
  /** Names the temporary dir, for telling a leftover one's test. */
  dirPrefix: string;
}): Promise<CsiKnownDriver> {
  const api = await startCsiNodeApiServer(opts);
  const root = await mkdtemp(join(tmpdir(), `${opts.dirPrefix}-`));
  const plugin = await FakeCsiPlugin.start({ driverName: opts.driverName, ...opts.plugin }).catch(
    async (error: unknown) => {
      await api.server.close();
      await rm(root, { recursive: true, force: true });
      throw error;
    },
  );
  const drivers = new CsiDrivers();
  drivers.set({ name: opts.driverName, endpoint: plugin.endpoint, highestSupportedVersion: '1.0.0' });
  return {
    ...api,
    root,
    plugin,
    drivers,
    async close() {
      drivers.delete(opts.driverName);
      await plugin.stop();
      await api.server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
