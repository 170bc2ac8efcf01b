import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SampleDevicePlugin } from '@nodeagent/testing';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { DeviceManager, endpointStopGracePeriodMs } from '../src/devicemanager/device-manager';
import { registrationRefusal } from '../src/devicemanager/registration-server';
import { TopologyManager } from '../src/topologymanager/topology-manager';
import { waitFor } from './helpers/wait-for';

const fidelity = join(__dirname, '../../../fidelity/node-plugins-v1.36');

function pod(name: string, devices: number, resource = 'example.com/resource'): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          resources: { limits: { [resource]: String(devices) }, requests: { [resource]: String(devices) } },
        },
      ],
    },
  } as Pod;
}

/** A settable clock: the grace period is crossed by moving it, not by waiting. */
function clock() {
  let now = 1_000_000;
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

let dir: string;
let pluginDir: string;
const cleanups: (() => void)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-devman-${process.pid}-`));
  pluginDir = join(dir, 'device-plugins');
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  await rm(dir, { recursive: true, force: true });
});

async function startManager(
  options: { clock?: ReturnType<typeof clock>; registry?: Registry; waitForSources?: boolean } = {},
) {
  const active: Pod[] = [];
  const manager = new DeviceManager({
    pluginDir,
    grpc,
    clock: options.clock,
    registry: options.registry,
    waitForSources: options.waitForSources,
  });
  await manager.start(() => active);
  cleanups.push(() => manager.stop());
  const admitter = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  admitter.addHintProvider(manager);
  /** Admission as the kubelet runs it: the synchronous verdict, then the plugin calls' outcome. */
  const admit = async (p: Pod) => {
    const verdict = admitter.admit({ pod: p, otherPods: [] });
    if (!verdict.admit) return verdict;
    const outcome = await (manager.admissionOutcome(p.metadata.uid ?? '') ?? { admit: true as const });
    if (outcome.admit) active.push(p);
    return outcome;
  };
  return { manager, admit, active };
}

async function startPlugin(options: Partial<ConstructorParameters<typeof SampleDevicePlugin>[0]> = {}) {
  const plugin = new SampleDevicePlugin({ pluginDir, deviceDir: join(dir, 'devices'), ...options });
  await plugin.start();
  cleanups.push(() => plugin.stop());
  return plugin;
}

describe('device manager', () => {
  it('registers the sample plugin and advertises its two devices, in the recorded call order', async () => {
    const registry = new Registry();
    const { manager } = await startManager({ registry });
    const plugin = await startPlugin();
    await waitFor('devices', () => manager.getCapacity().capacity['example.com/resource'] === '2', 10_000);
    expect(manager.getCapacity()).toEqual({
      capacity: { 'example.com/resource': '2' },
      allocatable: { 'example.com/resource': '2' },
    });
    const recorded = (await readFile(join(fidelity, 'device-plugin-exchange.txt'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('stub.go'))
      .map((line) => line.replace(/^stub\.go:\d+\] /, ''))
      .map((line) => line.replace(/^"([^"]+)".*/, '$1'));
    // Register, ListAndWatch, registered: the first three recorded lines, in order.
    expect(plugin.log).toEqual(recorded.slice(0, 3));
    expect(await registry.getSingleMetricAsString('kubelet_device_plugin_registration_total')).toContain(
      'kubelet_device_plugin_registration_total{resource_name="example.com/resource"} 1',
    );
  });

  it('allocates a device, hands its mount to the container, and refuses a pod asking more than is free with the recorded message', async () => {
    const registry = new Registry();
    const { manager, admit } = await startManager({ registry });
    const plugin = await startPlugin({
      extras: { envs: { DEVICE_SEEN: 'yes' }, cdiDevices: ['example.com/resource=dev'] },
    });
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);

    expect(await admit(pod('one', 1))).toEqual({ admit: true });
    const recordedAllocate = (await readFile(join(fidelity, 'device-plugin-exchange.txt'), 'utf8'))
      .split('\n')
      .find((line) => line.includes('"Allocate"'))!
      .replace(/^stub\.go:\d+\] "Allocate" /, 'Allocate ');
    expect(plugin.log.filter((line) => line.startsWith('Allocate'))).toEqual([recordedAllocate]);
    const options = await manager.runContainerOptions('uid-one', 'c');
    expect(options).toEqual({
      envs: [{ key: 'DEVICE_SEEN', value: 'yes' }],
      mounts: [{ containerPath: '/tmp/Dev-1', hostPath: plugin.deviceFile('Dev-1'), readonly: false }],
      devices: [],
      annotations: {},
      cdiDevices: [{ name: 'example.com/resource=dev' }],
    });

    const refusal = await admit(pod('two', 2));
    const recorded = (await readFile(join(fidelity, 'cases-upstream.txt'), 'utf8'))
      .split('\n')
      .find((line) => line.startsWith('PASS dp-overcommit'))!;
    // The recording stops after "Requested: 2,"; upstream's source gives the rest.
    const recordedPrefix = recorded.slice(
      recorded.indexOf('Pod was rejected: ') + 'Pod was rejected: '.length,
    );
    expect(refusal).toEqual({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message:
        'Allocate failed due to requested number of devices unavailable for example.com/resource. Requested: 2, Available: 1, which is unexpected',
    });
    expect((refusal as { message: string }).message.startsWith(recordedPrefix)).toBe(true);
    expect(recorded).toContain('reason=UnexpectedAdmissionError');
    expect(await registry.getSingleMetricAsString('kubelet_device_plugin_alloc_duration_seconds')).toContain(
      'kubelet_device_plugin_alloc_duration_seconds_count{resource_name="example.com/resource"} 1',
    );
  });

  it('admits a pod asking for a resource no plugin ever registered (the predicate check judges it), as upstream', async () => {
    const { admit } = await startManager();
    expect(await admit(pod('other', 2, 'example.com/other'))).toEqual({ admit: true });
  });

  it('refuses a pod once the plugin is gone: allocatable 0, capacity kept until the grace period, then 0', async () => {
    const time = clock();
    const { manager, admit } = await startManager({ clock: time });
    const plugin = await startPlugin();
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    plugin.stop();
    await waitFor(
      'plugin gone',
      () => manager.getCapacity().allocatable['example.com/resource'] === '0',
      10_000,
    );
    expect(manager.getCapacity().capacity).toEqual({ 'example.com/resource': '2' });
    expect(await admit(pod('late', 1))).toEqual({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message:
        'Allocate failed due to no healthy devices present; cannot allocate unhealthy devices example.com/resource, which is unexpected',
    });
    time.advance(endpointStopGracePeriodMs + 1);
    expect(manager.getCapacity()).toEqual({
      capacity: { 'example.com/resource': '0' },
      allocatable: { 'example.com/resource': '0' },
    });
  });

  it('shrinks allocatable when a device turns unhealthy; the pod holding it keeps its allocation', async () => {
    const { manager, admit } = await startManager();
    const plugin = await startPlugin();
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    expect(await admit(pod('holder', 1))).toEqual({ admit: true });
    const held = plugin.allocations[0]![0]!;
    plugin.setHealth(held, 'Unhealthy');
    await waitFor(
      'unhealthy',
      () => manager.getCapacity().allocatable['example.com/resource'] === '1',
      10_000,
    );
    expect(manager.getCapacity().capacity).toEqual({ 'example.com/resource': '2' });
    expect(manager.containerDevices('uid-holder', 'c')).toEqual([
      { resource: 'example.com/resource', id: held, numaNodes: [] },
    ]);
    // The one healthy device is free: a second pod gets it; a third finds none.
    expect(await admit(pod('second', 1))).toEqual({ admit: true });
    expect((await admit(pod('third', 1))).admit).toBe(false);
  });

  it('takes the plugin back when its socket is removed and recreated: same devices, allocations kept, no second Allocate', async () => {
    const { manager, admit } = await startManager();
    const plugin = await startPlugin();
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    expect(await admit(pod('held', 1))).toEqual({ admit: true });
    await plugin.restart();
    expect(plugin.log.filter((line) => line === 'Device Plugin registered with the Kubelet')).toHaveLength(2);
    await waitFor(
      'devices again',
      () => manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    expect(manager.containerDevices('uid-held', 'c')).toHaveLength(1);
    expect(await admit(pod('next', 1))).toEqual({ admit: true });
    expect((await admit(pod('none-left', 1))).admit).toBe(false);
    expect(new Set(plugin.allocations.flat())).toEqual(new Set(['Dev-1', 'Dev-2']));
  });

  it('refuses the pod with the gRPC error when the plugin dies during Allocate, and holds nothing for it', async () => {
    const { manager, admit } = await startManager();
    const plugin = await startPlugin();
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    plugin.dieOnNextAllocate();
    const refusal = await admit(pod('dies', 1));
    expect(refusal.admit).toBe(false);
    expect(refusal).toMatchObject({ reason: 'UnexpectedAdmissionError' });
    expect((refusal as { message: string }).message).toMatch(
      /^Allocate failed due to rpc error: code = \w+ desc = .*, which is unexpected$/,
    );
    expect(manager.containerDevices('uid-dies', 'c')).toEqual([]);
  });

  it('asks GetPreferredAllocation when the plugin offers it and takes its choice', async () => {
    const { manager, admit } = await startManager();
    const plugin = await startPlugin({ preferred: ['Dev-2', 'Dev-1'] });
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    expect(await admit(pod('pref', 1))).toEqual({ admit: true });
    expect(plugin.log).toContain('GetPreferredAllocation');
    expect(plugin.allocations).toEqual([['Dev-2']]);
  });

  it('calls PreStartContainer before the container starts when the plugin asks for it', async () => {
    const { manager, admit } = await startManager();
    const plugin = await startPlugin({ preStartRequired: true });
    await waitFor('devices', () => manager.getCapacity().allocatable['example.com/resource'] === '2', 10_000);
    await admit(pod('pre', 1));
    expect(plugin.log.some((line) => line.startsWith('PreStartContainer'))).toBe(false);
    await manager.runContainerOptions('uid-pre', 'c');
    expect(plugin.log).toContain(`PreStartContainer devices=${plugin.allocations[0]![0]}`);
  });

  it('refuses a plugin of another API version or an invalid resource name with upstream text', () => {
    expect(
      registrationRefusal({ version: 'v1alpha', endpoint: 'x.sock', resourceName: 'example.com/r' }),
    ).toBe('requested API version "v1alpha" is not supported by kubelet. Supported version is ["v1beta1"]');
    expect(registrationRefusal({ version: 'v1beta1', endpoint: 'x.sock', resourceName: 'nvidia' })).toBe(
      'the ResourceName "nvidia" is invalid',
    );
    expect(
      registrationRefusal({ version: 'v1beta1', endpoint: 'x.sock', resourceName: 'kubernetes.io/gpu' }),
    ).toBe('the ResourceName "kubernetes.io/gpu" is invalid');
  });
});

describe('device manager checkpoint and restart', () => {
  it('keeps allocations across a restart and the plugin re-registers when the socket is recreated', async () => {
    const first = await startManager();
    const plugin = await startPlugin({ watchKubeletSocket: true });
    await waitFor(
      'devices',
      () => first.manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    expect(await first.admit(pod('kept', 1))).toEqual({ admit: true });
    const held = plugin.allocations[0]![0]!;
    const text = await readFile(join(pluginDir, 'kubelet_internal_checkpoint'), 'utf8');
    const checkpoint = JSON.parse(text) as {
      Data: {
        PodDeviceEntries: {
          PodUID: string;
          ContainerName: string;
          ResourceName: string;
          DeviceIDs: Record<string, string[]>;
        }[];
        RegisteredDevices: Record<string, string[]>;
      };
      Checksum: number;
    };
    expect(checkpoint.Data.PodDeviceEntries).toMatchObject([
      {
        PodUID: 'uid-kept',
        ContainerName: 'c',
        ResourceName: 'example.com/resource',
        DeviceIDs: { '-1': [held] },
      },
    ]);
    expect(Object.keys(checkpoint.Data.RegisteredDevices)).toEqual(['example.com/resource']);
    expect(typeof checkpoint.Checksum).toBe('number');

    first.manager.stop();
    const second = await startManager();
    second.active.push(pod('kept', 1));
    // Before the plugin is back: the resource is known with no devices.
    expect(second.manager.containerDevices('uid-kept', 'c')).toEqual([
      { resource: 'example.com/resource', id: held, numaNodes: [] },
    ]);
    await waitFor(
      're-registration',
      () => second.manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    expect(plugin.log).toContain('inotify: kubelet.sock created, restarting.');
    // The kept pod is admitted again without a new Allocate; only one device is left for others.
    expect(await second.admit(pod('kept', 1))).toEqual({ admit: true });
    expect(plugin.allocations).toHaveLength(1);
    expect(await second.admit(pod('new', 2))).toMatchObject({ admit: false });
  });

  it('keeps the devices of a restored pod not yet delivered again until the pod sources are ready, then frees them', async () => {
    const first = await startManager();
    const plugin = await startPlugin({ watchKubeletSocket: true });
    await waitFor(
      'devices',
      () => first.manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    expect(await first.admit(pod('restored', 1))).toEqual({ admit: true });
    first.manager.stop();
    const second = await startManager({ waitForSources: true });
    await waitFor(
      're-registration',
      () => second.manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    // Another pod comes first: the restored pod (not listed again yet) keeps its device.
    expect(await second.admit(pod('other', 1))).toEqual({ admit: true });
    expect(second.manager.containerDevices('uid-restored', 'c')).toHaveLength(1);
    expect((await second.admit(pod('third', 1))).admit).toBe(false);
    // The sources have listed everything and the restored pod is not among them: its device is freed.
    second.manager.markSourcesReady();
    expect(await second.admit(pod('fourth', 1))).toEqual({ admit: true });
    expect(second.manager.containerDevices('uid-restored', 'c')).toEqual([]);
    expect(plugin.allocations).toHaveLength(3);
  });

  it('starts empty from a checkpoint whose checksum does not match', async () => {
    const first = await startManager();
    const plugin = await startPlugin();
    await waitFor(
      'devices',
      () => first.manager.getCapacity().allocatable['example.com/resource'] === '2',
      10_000,
    );
    await first.admit(pod('x', 1));
    first.manager.stop();
    plugin.stop();
    const path = join(pluginDir, 'kubelet_internal_checkpoint');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('uid-x', 'uid-y'));
    const second = await startManager();
    expect(second.manager.containerDevices('uid-y', 'c')).toEqual([]);
    expect(second.manager.getCapacity()).toEqual({ capacity: {}, allocatable: {} });
  });
});
