import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { containerNameLabel, podUidLabel } from '../src/cri/labels';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { DRA_MANAGER_STATE_FILE, decodeDraCheckpoint } from '../src/dra/dra-checkpoint';
import { withContainerClaims } from '../src/dra/dra-container-runtime';
import { DraManager, type DraManagerOptions } from '../src/dra/dra-manager';
import type { ResourceClaim } from '../src/dra/resource-claim';
import { claim, DRIVER, FakeDriver } from './helpers/dra-fake-driver';

const ENDPOINT = '/var/lib/kubelet/plugins/test-driver.cdi.k8s.io/dra.sock';
const silent = { info() {}, warn() {}, error() {} };

function pod(name: string, uid: string, claimName = 'np-dra-upstream-r-z8n6w'): Pod {
  return {
    metadata: { name, namespace: 'default', uid },
    spec: {
      resourceClaims: [{ name: 'r', resourceClaimName: claimName }],
      containers: [{ name: 'c', resources: { claims: [{ name: 'r' }] } }, { name: 'other' }],
    },
  };
}

let dir: string;
let clock: FakeClock;
let driver: FakeDriver;
let claims: Map<string, ResourceClaim>;
let registry: Registry;
let deletes: string[];
let nodeExists: boolean;
const managers: DraManager[] = [];

function newManager(overrides: Partial<DraManagerOptions> = {}): DraManager {
  registry = new Registry();
  const manager = new DraManager({
    rootDir: dir,
    nodeName: 'np-upstream',
    claims: {
      async getResourceClaim(namespace, name) {
        const found = claims.get(`${namespace}/${name}`);
        if (!found) throw Object.assign(new Error('HTTP 404'), { code: 404 });
        return found;
      },
    },
    slices: {
      async deleteResourceSlices(selector) {
        deletes.push(selector);
      },
      async nodeExists() {
        return nodeExists;
      },
    },
    connector: driver.connect,
    clock,
    logger: silent,
    registry,
    resourceHealthStatus: true,
    extendedResource: true,
    random: () => 0,
    ...overrides,
  });
  managers.push(manager);
  return manager;
}

async function register(
  manager: DraManager,
  versions = ['v1.DRAPlugin', 'v1beta1.DRAPlugin'],
): Promise<void> {
  manager.plugins.validatePlugin(DRIVER, ENDPOINT, versions);
  await manager.plugins.registerPlugin(DRIVER, ENDPOINT, versions);
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-dra-manager-${process.pid}-`));
  clock = new FakeClock(Date.UTC(2026, 0, 1));
  driver = new FakeDriver();
  claims = new Map();
  deletes = [];
  nodeExists = true;
});

afterEach(async () => {
  for (const manager of managers.splice(0)) manager.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('DRA plugin registration', () => {
  it('accepts v1 and v1beta1 DRAPlugin, picking the first the driver lists, and refuses others with upstream message', async () => {
    const manager = newManager();
    expect(() => manager.plugins.validatePlugin(DRIVER, ENDPOINT, ['v1alpha4.Node'])).toThrow(
      `invalid supported gRPC versions of DRA driver plugin ${DRIVER} at endpoint ${ENDPOINT}: none of services supported by the plugin (["v1alpha4.Node"]) are supported by the kubelet (["v1.DRAPlugin" "v1beta1.DRAPlugin"])`,
    );
    expect(() => manager.plugins.validatePlugin(DRIVER, ENDPOINT, [])).toThrow(
      'empty list of supported gRPC services (aka supported versions)',
    );
    await register(manager, ['v1beta1.DRAPlugin', 'v1.DRAPlugin']);
    expect(driver.connections).toEqual([{ endpoint: ENDPOINT, service: 'v1beta1.DRAPlugin', closed: false }]);
    await expect(manager.plugins.registerPlugin(DRIVER, ENDPOINT, ['v1.DRAPlugin'])).rejects.toThrow(
      `endpoint ${ENDPOINT} already registered for DRA driver plugin ${DRIVER}`,
    );
    manager.plugins.deregisterPlugin(DRIVER, ENDPOINT);
    expect(driver.connections[0]?.closed).toBe(true);
    await register(manager);
    expect(driver.connections[1]?.service).toBe('v1.DRAPlugin');
  });

  it('wipes the node slices at start, and a gone driver slices after 30 s unless it comes back', async () => {
    nodeExists = false;
    const manager = newManager();
    manager.start(() => []);
    await flush();
    expect(deletes).toEqual([]);
    // The Node does not exist yet: retried after a second (no jitter here).
    nodeExists = true;
    clock.advance(1000);
    await flush();
    expect(deletes).toEqual(['spec.nodeName=np-upstream']);

    await register(manager);
    manager.plugins.deregisterPlugin(DRIVER, ENDPOINT);
    clock.advance(29_000);
    await register(manager);
    clock.advance(5_000);
    await flush();
    expect(deletes).toHaveLength(1);

    manager.plugins.deregisterPlugin(DRIVER, ENDPOINT);
    clock.advance(30_000);
    await flush();
    expect(deletes).toEqual(['spec.nodeName=np-upstream', `spec.nodeName=np-upstream,spec.driver=${DRIVER}`]);
  });
});

describe('DRA plugin connection', () => {
  it('wipes the slices of a driver whose connection stays down 30 s, keeps them when it comes back, and prefers a connected plugin', async () => {
    const links: ((connected: boolean) => void)[] = [];
    const manager = newManager({
      connector: (endpoint, service) => ({
        ...driver.connect(endpoint, service),
        watchConnected(listener) {
          links.push(listener);
          listener(false);
        },
      }),
    });
    await register(manager);
    links[0]!(true);
    links[0]!(false);
    clock.advance(29_000);
    links[0]!(true);
    clock.advance(5_000);
    await flush();
    expect(deletes).toEqual([]);
    links[0]!(false);
    clock.advance(30_000);
    await flush();
    expect(deletes).toEqual([`spec.nodeName=np-upstream,spec.driver=${DRIVER}`]);
    // A second plugin of the driver: the connected one is used even when it is older.
    links[0]!(true);
    await manager.plugins.registerPlugin(DRIVER, `${ENDPOINT}.2`, ['v1.DRAPlugin']);
    expect(manager.plugins.getPlugin(DRIVER).endpoint).toBe(ENDPOINT);
    links[1]!(true);
    expect(manager.plugins.getPlugin(DRIVER).endpoint).toBe(`${ENDPOINT}.2`);
  });
});

describe('PrepareResources', () => {
  it('prepares an allocated, reserved claim once, records its CDI devices and checkpoints them', async () => {
    const manager = newManager();
    await register(manager);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await manager.prepareResources(p);
    expect(driver.prepareCalls).toEqual([
      [{ namespace: 'default', uid: 'e54af637', name: 'np-dra-upstream-r-z8n6w' }],
    ]);
    expect(manager.containerCdiDevices(p, p.spec.containers[0]!)).toEqual([
      `${DRIVER}/test=claim-e54af637-dev`,
    ]);
    expect(manager.containerCdiDevices(p, p.spec.containers[1]!)).toEqual([]);
    await manager.prepareResources(p);
    expect(driver.prepareCalls).toHaveLength(1);

    const text = await readFile(join(dir, DRA_MANAGER_STATE_FILE), 'utf8');
    const outer = JSON.parse(text) as { Data: string; Checksum: number };
    expect(JSON.parse(outer.Data)).toEqual({
      kind: 'DRACheckpoint',
      apiVersion: 'checkpoint.dra.kubelet.k8s.io/v1',
      Entries: [
        {
          ClaimUID: 'e54af637',
          ClaimName: 'np-dra-upstream-r-z8n6w',
          Namespace: 'default',
          PodUIDs: { 'pod-1': {} },
          DriverState: {
            [DRIVER]: {
              Devices: [
                {
                  PoolName: 'np-upstream',
                  DeviceName: 'device-00',
                  ShareID: null,
                  RequestNames: ['dev'],
                  CDIDeviceIDs: [`${DRIVER}/test=claim-e54af637-dev`],
                },
              ],
            },
          },
        },
      ],
    });
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      'dra_operations_duration_seconds_count{operation_name="PrepareResources",is_error="false"} 2',
    );
    expect(metrics).toContain(
      `dra_grpc_operations_duration_seconds_count{driver_name="${DRIVER}",method_name="/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources",grpc_status_code="OK"} 1`,
    );
    expect(metrics).toContain('dra_resource_claims_in_use{driver_name="<any>"} 1');
    expect(metrics).toContain(`dra_resource_claims_in_use{driver_name="${DRIVER}"} 1`);
  });

  it('refuses with upstream texts, changing nothing: driver not registered, claim missing, not reserved, not allocated', async () => {
    const manager = newManager();
    const p = pod('np-dra-upstream', 'pod-1');
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: fetch ResourceClaim np-dra-upstream-r-z8n6w: resourceclaims.resource.k8s.io "np-dra-upstream-r-z8n6w" not found',
    );
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    await expect(manager.prepareResources(p)).rejects.toThrow(
      `prepare dynamic resources: DRA driver ${DRIVER} is not registered`,
    );
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'other-pod'));
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: pod np-dra-upstream (pod-1) is not allowed to use ResourceClaim np-dra-upstream-r-z8n6w (e54af637)',
    );
    claims.set(
      'default/np-dra-upstream-r-z8n6w',
      claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1', { allocated: false }),
    );
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: ResourceClaim np-dra-upstream-r-z8n6w: not allocated',
    );
    expect(manager.podMightNeedToUnprepareResources('pod-1')).toBe(false);
    expect(await registry.metrics()).toContain(
      'dra_operations_duration_seconds_count{operation_name="PrepareResources",is_error="true"} 4',
    );
  });

  it('resolves a template claim from status.resourceClaimStatuses and checks the pod owns it', async () => {
    const manager = newManager();
    await register(manager);
    const p: Pod = {
      metadata: { name: 'tpl', namespace: 'default', uid: 'pod-t' },
      spec: {
        resourceClaims: [{ name: 'r', resourceClaimTemplateName: 'tmpl' }],
        containers: [{ name: 'c' }],
      },
    };
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: pod "default/tpl": ResourceClaim not created yet',
    );
    p.status = { resourceClaimStatuses: [{ name: 'r', resourceClaimName: 'tpl-r-abc' }] };
    claims.set('default/tpl-r-abc', claim('tpl-r-abc', 'c-1', 'pod-t'));
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: ResourceClaim default/tpl-r-abc was not created for pod default/tpl (pod is not owner)',
    );
    claims.get('default/tpl-r-abc')!.metadata.ownerReferences = [
      { apiVersion: 'v1', kind: 'Pod', name: 'tpl', uid: 'pod-t', controller: true },
    ];
    await manager.prepareResources(p);
    expect(driver.prepareCalls).toHaveLength(1);
    // A template the controller decided needs no claim: nothing to prepare.
    const none: Pod = {
      ...p,
      metadata: { ...p.metadata, uid: 'pod-n' },
      status: { resourceClaimStatuses: [{ name: 'r' }] },
    };
    await manager.prepareResources(none);
    expect(driver.prepareCalls).toHaveLength(1);
  });

  it('reports a driver failure and a timeout as upstream prints them, and prepares on the next try', async () => {
    const manager = newManager();
    await register(manager);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    driver.claimError = 'device busy';
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: NodePrepareResources failed for ResourceClaim np-dra-upstream-r-z8n6w: device busy',
    );
    driver.claimError = undefined;
    driver.prepareError = Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), {
      code: 4,
      details: 'context deadline exceeded',
    });
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'prepare dynamic resources: NodePrepareResources: rpc error: code = DeadlineExceeded desc = context deadline exceeded',
    );
    driver.prepareError = undefined;
    driver.skipAnswers = true;
    await expect(manager.prepareResources(p)).rejects.toThrow(
      'NodePrepareResources skipped 1 ResourceClaims',
    );
    driver.skipAnswers = false;
    await manager.prepareResources(p);
    expect(driver.prepareCalls).toHaveLength(4);
    expect(manager.containerCdiDevices(p, p.spec.containers[0]!)).toEqual([
      `${DRIVER}/test=claim-e54af637-dev`,
    ]);
    expect(await registry.metrics()).toContain(
      `dra_grpc_operations_duration_seconds_count{driver_name="${DRIVER}",method_name="/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources",grpc_status_code="DeadlineExceeded"} 1`,
    );
  });
});

describe('UnprepareResources', () => {
  it('unprepares a claim only when its last pod goes', async () => {
    const manager = newManager();
    await register(manager);
    const shared = claim('shared', 'c-s', 'pod-1');
    shared.status!.reservedFor!.push({ resource: 'pods', name: 'q', uid: 'pod-2' });
    claims.set('default/shared', shared);
    const p1 = pod('p', 'pod-1', 'shared');
    const p2 = pod('q', 'pod-2', 'shared');
    await manager.prepareResources(p1);
    await manager.prepareResources(p2);
    expect(driver.prepareCalls).toHaveLength(1);
    await manager.unprepareResources(p1);
    expect(driver.unprepareCalls).toHaveLength(0);
    expect(manager.podMightNeedToUnprepareResources('pod-1')).toBe(false);
    await manager.unprepareResources(p2);
    expect(driver.unprepareCalls).toEqual([[{ namespace: 'default', uid: 'c-s', name: 'shared' }]]);
    expect(decodeDraCheckpoint('x', await readFile(join(dir, DRA_MANAGER_STATE_FILE), 'utf8'))).toEqual([]);
    // Idempotent: nothing left to unprepare.
    await manager.unprepareResources(p2);
    expect(driver.unprepareCalls).toHaveLength(1);
  });

  it('after a restart keeps the prepared claim (no NodePrepareResources) and unprepares pods gone meanwhile', async () => {
    const first = newManager();
    await register(first);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await first.prepareResources(p);
    first.stop();

    const second = newManager();
    await register(second);
    // The running container's restart still gets its CDI devices, from the checkpoint.
    expect(second.containerCdiDevices(p, p.spec.containers[0]!)).toEqual([
      `${DRIVER}/test=claim-e54af637-dev`,
    ]);
    expect(driver.prepareCalls).toHaveLength(1);
    // Upstream counts the claims prepared in this run only.
    expect(await registry.metrics()).toContain('dra_resource_claims_in_use{driver_name="<any>"} 0');
    // Not before every source has delivered its pods.
    await second.reconcile([]);
    expect(driver.unprepareCalls).toHaveLength(0);
    second.markSourcesReady();
    await second.reconcile([p]);
    expect(driver.unprepareCalls).toHaveLength(0);
    await second.reconcile([]);
    expect(driver.unprepareCalls).toEqual([
      [{ namespace: 'default', uid: 'e54af637', name: 'np-dra-upstream-r-z8n6w' }],
    ]);
    expect(second.podMightNeedToUnprepareResources('pod-1')).toBe(false);
  });

  it('refuses to start on a checkpoint whose checksum does not match', async () => {
    await writeFile(
      join(dir, DRA_MANAGER_STATE_FILE),
      JSON.stringify({ Data: '{"Entries":null}', Checksum: 1 }),
    );
    expect(() => newManager()).toThrow(
      'create ResourceClaim cache: GetOrCreate() on checkpoint state: failed to get checkpoint dra_manager_state: checkpoint is corrupted',
    );
  });
});

describe('device health', () => {
  it('reports a claimed device health from the driver stream, Unknown when the stream ends or the report is stale', async () => {
    const manager = newManager();
    const changed: string[][] = [];
    manager.watchHealth((uids) => changed.push(uids));
    await register(manager, ['v1.DRAPlugin', 'v1alpha1.DRAResourceHealth']);
    expect(driver.streamsOpened).toBe(1);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await manager.prepareResources(p);
    expect(manager.allocatedResourcesStatus(p, 'c')).toEqual([
      {
        name: 'claim:r',
        resources: [{ resourceID: `${DRIVER}/test=claim-e54af637-dev`, health: 'Unknown' }],
      },
    ]);
    expect(manager.allocatedResourcesStatus(p, 'other')).toBeUndefined();
    const now = Math.floor(clock.now() / 1000);
    driver.health?.([
      { poolName: 'np-upstream', deviceName: 'device-00', health: 'UNHEALTHY', lastUpdatedTime: now },
    ]);
    expect(changed).toEqual([['pod-1']]);
    expect(manager.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]?.health).toBe('Unhealthy');
    clock.advance(31_000);
    expect(manager.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]?.health).toBe('Unknown');
    driver.healthEnd?.(new Error('EOF'));
    clock.advance(5_000);
    expect(driver.streamsOpened).toBe(2);
  });

  it('keeps the reported health in dra_health_state across a restart, until its timeout', async () => {
    const first = newManager();
    await register(first, ['v1.DRAPlugin', 'v1alpha1.DRAResourceHealth']);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await first.prepareResources(p);
    driver.health?.([
      {
        poolName: 'np-upstream',
        deviceName: 'device-00',
        health: 'UNHEALTHY',
        lastUpdatedTime: 0,
        healthCheckTimeoutSeconds: 60,
      },
    ]);
    const file = JSON.parse(await readFile(join(dir, 'dra_health_state'), 'utf8'));
    expect(file).toEqual({
      [DRIVER]: {
        Devices: {
          'np-upstream/device-00': {
            PoolName: 'np-upstream',
            DeviceName: 'device-00',
            Health: 'Unhealthy',
            LastUpdated: '2026-01-01T00:00:00Z',
            HealthCheckTimeout: 60_000_000_000,
            Message: '',
          },
        },
      },
    });
    first.stop();
    clock.advance(45_000);
    const second = newManager();
    expect(second.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]?.health).toBe('Unhealthy');
    clock.advance(16_000);
    expect(second.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]?.health).toBe('Unknown');
  });

  it("carries the driver's message into allocatedResourcesStatus (cut to 1024 characters), and a message change re-syncs the pod", async () => {
    const manager = newManager();
    const changed: string[][] = [];
    manager.watchHealth((uids) => changed.push(uids));
    await register(manager, ['v1.DRAPlugin', 'v1alpha1.DRAResourceHealth']);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await manager.prepareResources(p);
    const report = (message: string, healthCheckTimeoutSeconds?: number) =>
      driver.health?.([
        {
          poolName: 'np-upstream',
          deviceName: 'device-00',
          health: 'UNHEALTHY',
          lastUpdatedTime: 0,
          message,
          ...(healthCheckTimeoutSeconds === undefined ? {} : { healthCheckTimeoutSeconds }),
        },
      ]);
    report('ECC errors', -5);
    expect(manager.allocatedResourcesStatus(p, 'c')).toEqual([
      {
        name: 'claim:r',
        resources: [
          { resourceID: `${DRIVER}/test=claim-e54af637-dev`, health: 'Unhealthy', message: 'ECC errors' },
        ],
      },
    ]);
    // A negative timeout is the default one, recorded as upstream records it (30 s in nanoseconds).
    const file = JSON.parse(await readFile(join(dir, 'dra_health_state'), 'utf8'));
    expect(file[DRIVER].Devices['np-upstream/device-00']).toMatchObject({
      HealthCheckTimeout: 30_000_000_000,
      Message: 'ECC errors',
    });
    report('ECC errors', -5);
    expect(changed).toEqual([['pod-1']]);
    report('ECC errors: row remapping pending');
    expect(changed).toEqual([['pod-1'], ['pod-1']]);
    report('é'.repeat(2000));
    const long = manager.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]?.message;
    expect(long).toBe(`${'é'.repeat(1021)}...`);
    // A stale report is Unknown and its message is gone.
    clock.advance(31_000);
    expect(manager.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]).toEqual({
      resourceID: `${DRIVER}/test=claim-e54af637-dev`,
      health: 'Unknown',
    });
  });

  it('leaves the message out with ResourceHealthStatusMessage off', async () => {
    const manager = newManager({ resourceHealthStatusMessage: false });
    await register(manager, ['v1.DRAPlugin', 'v1alpha1.DRAResourceHealth']);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await manager.prepareResources(p);
    driver.health?.([
      {
        poolName: 'np-upstream',
        deviceName: 'device-00',
        health: 'UNHEALTHY',
        lastUpdatedTime: 0,
        message: 'x',
      },
    ]);
    expect(manager.allocatedResourcesStatus(p, 'c')?.[0]?.resources[0]).toEqual({
      resourceID: `${DRIVER}/test=claim-e54af637-dev`,
      health: 'Unhealthy',
    });
  });

  it('opens no health stream with ResourceHealthStatus off, nor for a driver that does not offer it', async () => {
    const off = newManager({ resourceHealthStatus: false });
    await register(off, ['v1.DRAPlugin', 'v1alpha1.DRAResourceHealth']);
    expect(driver.streamsOpened).toBe(0);
    off.stop();
    const on = newManager();
    await register(on, ['v1.DRAPlugin']);
    expect(driver.streamsOpened).toBe(0);
  });
});

describe('CreateContainer', () => {
  it('carries the CDI devices of the claims the container uses, after those already there; none for others', async () => {
    const manager = newManager();
    await register(manager);
    claims.set('default/np-dra-upstream-r-z8n6w', claim('np-dra-upstream-r-z8n6w', 'e54af637', 'pod-1'));
    const p = pod('np-dra-upstream', 'pod-1');
    await manager.prepareResources(p);
    const seen: unknown[] = [];
    const runtime = withContainerClaims(
      {
        createContainer: async (_sandbox: string, config: { CDIDevices?: { name: string }[] }) => {
          seen.push(config.CDIDevices);
          return 'id';
        },
      } as unknown as Pick<PodRuntime, 'createContainer'>,
      manager,
      (uid) => (uid === 'pod-1' ? p : undefined),
    );
    const config = (name: string) =>
      ({
        labels: { [podUidLabel]: 'pod-1', [containerNameLabel]: name },
        CDIDevices: [{ name: 'example.com/resource=all' }],
      }) as unknown as Parameters<PodRuntime['createContainer']>[1];
    await runtime.createContainer('s', config('c'), {} as Parameters<PodRuntime['createContainer']>[2]);
    await runtime.createContainer('s', config('other'), {} as Parameters<PodRuntime['createContainer']>[2]);
    expect(seen).toEqual([
      [{ name: 'example.com/resource=all' }, { name: `${DRIVER}/test=claim-e54af637-dev` }],
      [{ name: 'example.com/resource=all' }],
    ]);
  });
});
