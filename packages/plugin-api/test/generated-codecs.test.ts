import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTO_FILES, protoRoot } from '../scripts/generate-codecs';
import {
  messageCodec,
  pluginMessageType,
  pluginServiceDefinition,
  pluginServiceNames,
} from '../src/plugin-services';
import { TO_OBJECT } from '../src/service-definition';

const packageDir = join(import.meta.dirname, '..');

/** The same value through protobufjs's reflection of the .proto file, for comparison. */
function reflected(file: string, typeName: string) {
  return protoRoot(file).lookupType(typeName);
}

describe('the generated codecs', () => {
  it('match what the installed protobufjs generates from proto/*.proto (npm run generate after an edit)', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(packageDir, 'scripts', 'generate-codecs.ts'), '--check'],
      { cwd: packageDir, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('cover every service of every vendored .proto file', () => {
    expect(PROTO_FILES).toHaveLength(6);
    expect(pluginServiceNames().sort()).toEqual([
      'k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin',
      'k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin',
      'pluginregistration.Registration',
      'v1.PodResourcesLister',
      'v1alpha1.DRAResourceHealth',
      'v1beta1.DevicePlugin',
      'v1beta1.Registration',
    ]);
  });

  it.each([
    ['dra-v1.proto', 'k8s.io.kubelet.pkg.apis.dra.v1.NodePrepareResourcesResponse'],
    ['dra-v1beta1.proto', 'k8s.io.kubelet.pkg.apis.dra.v1beta1.NodePrepareResourcesResponse'],
  ])('encode %s NodePrepareResourcesResponse as reflection does', (file, typeName) => {
    const value = {
      claims: {
        'e54af637-99ae-4f79-bb94-a7388ca29413': {
          devices: [
            {
              requestNames: ['dev'],
              poolName: 'np-upstream',
              deviceName: 'device-00',
              cdiDeviceIds: ['test-driver.cdi.k8s.io/test=claim-e54af637-dev'],
            },
          ],
        },
        other: { error: 'no such pool' },
      },
    };
    const type = reflected(file, typeName);
    const bytes = messageCodec(typeName).encode(value);
    expect(bytes).toEqual(Buffer.from(type.encode(type.fromObject(value)).finish()));
    expect(messageCodec(typeName).decode(bytes)).toEqual(type.toObject(type.decode(bytes), TO_OBJECT));
    expect(messageCodec(typeName).decode(bytes)).toMatchObject({
      claims: { other: { devices: [], error: 'no such pool' } },
    });
  });

  it('keep the health enum by name and Unix seconds past 2^32 as numbers', () => {
    const codec = messageCodec('v1alpha1.NodeWatchResourcesResponse');
    const value = {
      devices: [
        {
          device: { poolName: 'p', deviceName: 'd0' },
          health: 'UNHEALTHY',
          lastUpdatedTime: 2 ** 33 + 1,
          healthCheckTimeoutSeconds: 0,
          message: '',
        },
        {
          device: { poolName: 'p', deviceName: 'd1' },
          health: 'HEALTHY',
          lastUpdatedTime: 1_700_000_000,
          healthCheckTimeoutSeconds: 0,
          message: '',
        },
      ],
    };
    const type = reflected('dra-health-v1alpha1.proto', 'v1alpha1.NodeWatchResourcesResponse');
    const bytes = codec.encode(value);
    expect(bytes).toEqual(Buffer.from(type.encode(type.fromObject(value)).finish()));
    expect(codec.decode(bytes)).toEqual(value);
    // An unset health is UNKNOWN, an unset device null, as the Go side reads zero values.
    expect(codec.decode(codec.encode({ devices: [{}] }))).toEqual({
      devices: [
        { device: null, health: 'UNKNOWN', lastUpdatedTime: 0, healthCheckTimeoutSeconds: 0, message: '' },
      ],
    });
  });

  it('carry DeviceHealth.health_check_timeout_seconds (4, int64) and message (5, string) as upstream numbers them', () => {
    const codec = messageCodec('v1alpha1.DeviceHealth');
    const value = {
      device: { poolName: 'p', deviceName: 'd0' },
      health: 'UNHEALTHY',
      lastUpdatedTime: 7,
      healthCheckTimeoutSeconds: 90,
      message: 'ECC errors',
    };
    const bytes = codec.encode(value);
    const type = reflected('dra-health-v1alpha1.proto', 'v1alpha1.DeviceHealth');
    expect(bytes).toEqual(Buffer.from(type.encode(type.fromObject(value)).finish()));
    // Field 4 varint: tag 0x20, 90; field 5 length-delimited: tag 0x2a, length, bytes.
    const tail = Buffer.concat([Buffer.from([0x20, 90, 0x2a, 10]), Buffer.from('ECC errors')]);
    expect(Buffer.from(bytes).subarray(bytes.length - tail.length)).toEqual(tail);
    expect(codec.decode(bytes)).toEqual(value);
    // A negative timeout travels as int64 (ten bytes), for the kubelet to replace with its default.
    expect(codec.decode(codec.encode({ healthCheckTimeoutSeconds: -5 }))).toMatchObject({
      healthCheckTimeoutSeconds: -5,
    });
  });

  it('encode the registration and device plugin messages as reflection does', () => {
    for (const [file, typeName, value] of [
      [
        'pluginregistration-v1.proto',
        'pluginregistration.PluginInfo',
        { type: 'DRAPlugin', name: 'd', endpoint: '/p/dra.sock', supportedVersions: ['v1.DRAPlugin'] },
      ],
      ['pluginregistration-v1.proto', 'pluginregistration.RegistrationStatus', { pluginRegistered: true }],
      [
        'deviceplugin-v1beta1.proto',
        'v1beta1.ContainerAllocateResponse',
        {
          envs: { DEV: 'Dev-1' },
          mounts: [{ containerPath: '/tmp/Dev-1', hostPath: '/var/run/Dev-1', readOnly: true }],
          cdiDevices: [{ name: 'vendor.com/class=dev' }],
        },
      ],
      [
        'podresources-v1.proto',
        'v1.AllocatableResourcesResponse',
        {
          cpuIds: [0, 3],
          memory: [{ memoryType: 'memory', size: 2 ** 40, topology: { nodes: [{ ID: 1 }] } }],
        },
      ],
    ] as const) {
      const type = reflected(file, typeName);
      expect(messageCodec(typeName).encode(value)).toEqual(
        Buffer.from(type.encode(type.fromObject(value)).finish()),
      );
    }
  });

  it("keep each method's streaming side: ListAndWatch and NodeWatchResources stream their answers", () => {
    const plugin = pluginServiceDefinition('v1beta1.DevicePlugin');
    expect(plugin.ListAndWatch?.responseStream).toBe(true);
    expect(plugin.Allocate?.responseStream).toBe(false);
    expect(pluginServiceDefinition('v1.PodResourcesLister').List?.path).toBe('/v1.PodResourcesLister/List');
    expect(pluginServiceDefinition('v1alpha1.DRAResourceHealth').NodeWatchResources?.responseStream).toBe(
      true,
    );
    expect(pluginServiceDefinition('v1beta1.Registration').Register?.requestStream).toBe(false);
  });

  it('make each message type once', () => {
    expect(pluginMessageType('k8s.io.kubelet.pkg.apis.dra.v1.Claim')).toBe(
      pluginMessageType('k8s.io.kubelet.pkg.apis.dra.v1.Claim'),
    );
  });
});
