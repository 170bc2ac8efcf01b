import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { devicePluginV1beta1Proto } from '../src/devicemanager/deviceplugin-api';
import {
  decodeContainerAllocateResponse,
  encodeContainerAllocateResponse,
} from '../src/devicemanager/deviceplugin-services';
import { protoServiceDefinition } from '../src/devicemanager/proto-service';

const kubeletDir = join(import.meta.dirname, '..');

describe("the device plugin and pod-resources APIs' generated codecs", () => {
  it('match what the installed protobufjs generates from the vendored .proto texts', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(kubeletDir, 'scripts', 'generate-plugin-codecs.ts'), '--check'],
      { cwd: kubeletDir, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("encode and decode as protobufjs's reflection does", () => {
    const response = {
      envs: { DEV: 'Dev-1' },
      mounts: [{ containerPath: '/tmp/Dev-1', hostPath: '/var/run/Dev-1', readOnly: true }],
      devices: [{ containerPath: '/dev/x', hostPath: '/dev/x', permissions: 'rw' }],
      annotations: { a: 'b' },
      cdiDevices: [{ name: 'vendor.com/class=dev' }],
    };
    const reflected = protobuf
      .parse(devicePluginV1beta1Proto)
      .root.lookupType('v1beta1.ContainerAllocateResponse');
    const bytes = encodeContainerAllocateResponse(response);
    expect(bytes).toEqual(Buffer.from(reflected.encode(reflected.fromObject(response)).finish()));
    expect(decodeContainerAllocateResponse(bytes)).toMatchObject(response);
  });

  it("keeps each method's streaming side: ListAndWatch and Watch stream their answers", () => {
    const plugin = protoServiceDefinition('v1beta1.DevicePlugin');
    expect(plugin.ListAndWatch?.responseStream).toBe(true);
    expect(plugin.Allocate?.responseStream).toBe(false);
    expect(protoServiceDefinition('v1.PodResourcesLister').List?.path).toBe('/v1.PodResourcesLister/List');
    expect(() => protoServiceDefinition('v1.Nothing')).toThrow(
      /no device plugin or pod-resources service v1.Nothing/,
    );
  });
});
