import { CoreV1Api, StorageV1Api, type V1CSIDriverSpec } from '@kubernetes/client-node';
import { type ApiServer, type ApiServerOptions, startApiServer } from '@nodeagent/testing';

/** The node the CSI tests run on (the engine's node too) and the driver they register. */
export const NODE = 'node-a';
export const DRIVER = 'hostpath.csi.k8s.io';

/**
 * Server options for tests of generic ephemeral volumes: of the control plane only the ephemeral
 * volume controller runs, no scheduler, node lifecycle or collectors in the way.
 */
export const ephemeralVolumeControllerOnly: ApiServerOptions = {
  controlPlane: {
    nodeLifecycle: false,
    taintEviction: false,
    scheduler: false,
    replicaSet: false,
    deployment: false,
    garbageCollector: false,
  },
};

/** The in-process API server a CSI test's node talks to, with the clients the kubelet's CSI code takes. */
export interface CsiNodeApiServer {
  server: ApiServer;
  core: CoreV1Api;
  storage: StorageV1Api;
}

/**
 * The server with NODE's Node and, given its spec, the CSIDriver object of `driverName` (DRIVER
 * unless given; no spec: no object).
 */
export async function startCsiNodeApiServer(
  opts: { server?: ApiServerOptions; csiDriver?: V1CSIDriverSpec; driverName?: string } = {},
): Promise<CsiNodeApiServer> {
  const server = await startApiServer(opts.server);
  const core = server.kubeConfig().makeApiClient(CoreV1Api);
  const storage = server.kubeConfig().makeApiClient(StorageV1Api);
  try {
    await core.createNode({ body: { metadata: { name: NODE } } });
    if (opts.csiDriver)
      await storage.createCSIDriver({
        body: { metadata: { name: opts.driverName ?? DRIVER }, spec: opts.csiDriver },
      });
  } catch (error) {
    await server.close();
    throw error;
  }
  return { server, core, storage };
}
