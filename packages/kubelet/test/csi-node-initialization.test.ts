import { CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiCsiNodeInfo } from '../src/volumes/csi/api-csi-node-info';
import { CsiNodeInitialization } from '../src/volumes/csi/csi-node-initialization';
import {
  MIGRATED_PLUGINS_ANNOTATION,
  withMigrationAnnotation,
} from '../src/volumes/csi/migrated-plugins-annotation';

const NODE = 'csinode-init';
const PLUGINS = ['kubernetes.io/gce-pd', 'kubernetes.io/aws-ebs', 'kubernetes.io/cinder'];
const ANNOTATION = 'kubernetes.io/aws-ebs,kubernetes.io/cinder,kubernetes.io/gce-pd';

/** Lets the initialization's promise chains run between timer firings. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function recordingLogger() {
  const errors: string[] = [];
  return {
    errors,
    logger: { info() {}, warn() {}, error: (_o: object, msg?: string) => errors.push(msg ?? '') },
  };
}

describe('the migrated-plugins annotation', () => {
  it('is set sorted, left alone when it names the same set, and removed when no plugin is migrated', () => {
    expect(withMigrationAnnotation(undefined, PLUGINS)).toEqual({
      [MIGRATED_PLUGINS_ANNOTATION]: ANNOTATION,
    });
    const reordered = {
      a: 'b',
      [MIGRATED_PLUGINS_ANNOTATION]: 'kubernetes.io/gce-pd,kubernetes.io/cinder,kubernetes.io/aws-ebs',
    };
    expect(withMigrationAnnotation(reordered, PLUGINS)).toBeUndefined();
    expect(
      withMigrationAnnotation({ [MIGRATED_PLUGINS_ANNOTATION]: 'kubernetes.io/gce-pd' }, PLUGINS),
    ).toEqual({
      [MIGRATED_PLUGINS_ANNOTATION]: ANNOTATION,
    });
    expect(withMigrationAnnotation({ a: 'b', [MIGRATED_PLUGINS_ANNOTATION]: ANNOTATION }, [])).toEqual({
      a: 'b',
    });
    expect(withMigrationAnnotation({ a: 'b' }, [])).toBeUndefined();
  });
});

describe('CsiNodeInitialization (upstream initializeCSINode)', () => {
  it('holds the node not Ready until the API server answers, then until the CSINode is set up', async () => {
    const clock = new FakeClock();
    let reachable = false;
    let initialized = 0;
    const { logger } = recordingLogger();
    const init = new CsiNodeInitialization({
      clock,
      logger,
      nodeInfo: {
        reachable: async () => {
          if (!reachable) throw new Error('connection refused');
        },
        initialize: async () => {
          initialized++;
        },
      },
      exit: () => {
        throw new Error('must not exit');
      },
    });
    const done = init.start();
    await clock.advanceAsync(10_000, settle);
    expect(init.storageError()).toBe('CSINode is not yet initialized');
    expect(initialized).toBe(0);
    reachable = true;
    await clock.advanceAsync(1_000, settle);
    await done;
    expect(initialized).toBe(1);
    expect(init.storageError()).toBeUndefined();
  });

  it("reports each failure in Ready's words, and exits with 255 once all six tries (of four each) failed", async () => {
    const clock = new FakeClock();
    let tries = 0;
    const exits: number[] = [];
    const { errors, logger } = recordingLogger();
    const init = new CsiNodeInitialization({
      clock,
      logger,
      random: () => 0,
      nodeInfo: {
        reachable: async () => {},
        initialize: async () => {
          tries++;
          throw new Error('nodes "csinode-init" not found');
        },
      },
      exit: (code) => exits.push(code),
    });
    const done = init.start();
    await clock.advanceAsync(0, settle);
    // The first try's four attempts sleep 10, 50 and 250 ms on the clock.
    await clock.advanceAsync(310, settle);
    const cause =
      'error updating CSINode annotation: timed out waiting for the condition; caused by: nodes "csinode-init" not found';
    expect(init.storageError()).toBe(`failed to initialize CSINode: ${cause}`);
    expect(errors[0]).toBe(`Failed to initialize CSINode: ${cause}`);
    expect(exits).toEqual([]);
    // Sleeps of 15, 90, 540, 3240 and 19440 ms between the six tries.
    await clock.advanceAsync(60_000, settle);
    await done;
    expect(tries).toBe(24);
    expect(errors.at(-1)).toBe(
      'Failed to initialize CSINode after retrying: timed out waiting for the condition',
    );
    expect(exits).toEqual([255]);
  });

  it('is done at the try that succeeds, the error cleared', async () => {
    const clock = new FakeClock();
    let tries = 0;
    const init = new CsiNodeInitialization({
      clock,
      logger: recordingLogger().logger,
      nodeInfo: {
        reachable: async () => {},
        initialize: async () => {
          if (++tries < 6) throw new Error('conflict');
        },
      },
      exit: () => {
        throw new Error('must not exit');
      },
    });
    const done = init.start();
    await clock.advanceAsync(2_000, settle);
    await done;
    expect(tries).toBe(6);
    expect(init.storageError()).toBeUndefined();
  });
});

describe('apiCsiNodeInfo against the API server', () => {
  let server: ApiServer;
  let core: CoreV1Api;
  let storage: StorageV1Api;
  let requests: string[];

  beforeEach(async () => {
    requests = [];
    server = await startApiServer({ audit: (_user, method, path) => requests.push(`${method} ${path}`) });
    core = server.kubeConfig().makeApiClient(CoreV1Api);
    storage = server.kubeConfig().makeApiClient(StorageV1Api);
  });

  afterEach(async () => {
    await server.close();
  });

  it('creates the CSINode owned by the Node with the annotation, and fails while the Node is missing', async () => {
    const info = apiCsiNodeInfo(NODE, core, storage, PLUGINS);
    await info.reachable();
    await expect(info.initialize()).rejects.toThrow();
    await expect(storage.readCSINode({ name: NODE })).rejects.toMatchObject({ code: 404 });
    const node = await core.createNode({ body: { metadata: { name: NODE } } });
    await info.initialize();
    const csiNode = await storage.readCSINode({ name: NODE });
    expect(csiNode.metadata?.annotations).toEqual({ [MIGRATED_PLUGINS_ANNOTATION]: ANNOTATION });
    expect(csiNode.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: node.metadata?.uid },
    ]);
    expect(csiNode.spec.drivers).toEqual([]);
  });

  it('annotates a CSINode that lacks the annotation, keeping its drivers, and writes nothing when it is right', async () => {
    await core.createNode({ body: { metadata: { name: NODE } } });
    const driver = { name: 'pd.csi.storage.gke.io', nodeID: 'n1', topologyKeys: [] };
    await storage.createCSINode({ body: { metadata: { name: NODE }, spec: { drivers: [driver] } } });
    const info = apiCsiNodeInfo(NODE, core, storage, PLUGINS);
    await info.initialize();
    const csiNode = await storage.readCSINode({ name: NODE });
    expect(csiNode.metadata?.annotations?.[MIGRATED_PLUGINS_ANNOTATION]).toBe(ANNOTATION);
    expect(csiNode.spec.drivers.map((d) => d.name)).toEqual(['pd.csi.storage.gke.io']);
    requests.length = 0;
    await info.initialize();
    expect(requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
  });

  it('writes nothing when a driver registers again with the same node ID and topology keys', async () => {
    await core.createNode({ body: { metadata: { name: NODE } } });
    const info = apiCsiNodeInfo(NODE, core, storage, PLUGINS);
    await info.initialize();
    const driver = {
      name: 'ebs.csi.aws.com',
      nodeID: 'i-1',
      topologyKeys: ['topology.ebs.csi.aws.com/zone'],
    };
    const topology = { 'topology.ebs.csi.aws.com/zone': 'eu-west-1a' };
    await info.installDriver(driver, topology);
    requests.length = 0;
    await info.installDriver({ ...driver, allocatable: { count: 25 } }, topology);
    expect(requests.filter((r) => !r.startsWith('GET'))).toEqual([]);
    await info.installDriver({ ...driver, nodeID: 'i-2' }, topology);
    expect(requests.filter((r) => r.startsWith('PUT'))).toHaveLength(1);
    const csiNode = await storage.readCSINode({ name: NODE });
    expect(csiNode.spec.drivers.map((d) => d.nodeID)).toEqual(['i-2']);
    expect(csiNode.metadata?.annotations?.[MIGRATED_PLUGINS_ANNOTATION]).toBe(ANNOTATION);
  });
});
