import { describe, expect, it } from 'vitest';
import { fnv32a } from '../src/cpumanager/checkpoint-checksum';
import {
  formatDeviceCheckpoint,
  parseDeviceCheckpoint,
} from '../src/devicemanager/device-manager-checkpoint';
import { encodeContainerAllocateResponse } from '../src/devicemanager/deviceplugin-services';

describe('kubelet_internal_checkpoint (upstream checkpoint.Data)', () => {
  const response = { mounts: [{ containerPath: '/tmp/Dev-1', hostPath: '/tmp/Dev-1' }] };

  it('writes upstream JSON: entries with DeviceIDs by NUMA node and AllocResp as base64 protobuf', () => {
    const text = formatDeviceCheckpoint({
      entries: [
        {
          podUid: 'u1',
          container: 'c',
          resource: 'example.com/resource',
          devicesPerNuma: new Map([[-1, ['Dev-1']]]),
          response,
        },
      ],
      registeredDevices: new Map([['example.com/resource', ['Dev-1', 'Dev-2']]]),
    });
    const allocResp = encodeContainerAllocateResponse(response);
    const bytes = [...allocResp].join(' ');
    // go-spew's print of the data (checksum.New): field types, element types left out.
    const dump =
      '(checkpoint.checkpointData){PodDeviceEntries:([]checkpoint.PodDevicesEntry)[{PodUID:(string)u1 ' +
      'ContainerName:(string)c ResourceName:(string)example.com/resource DeviceIDs:(checkpoint.DevicesPerNUMA)map[-1:[Dev-1]] ' +
      `AllocResp:([]uint8)[${bytes}]}] RegisteredDevices:(map[string][]string)map[example.com/resource:[Dev-1 Dev-2]]}`;
    expect(JSON.parse(text)).toEqual({
      Data: {
        PodDeviceEntries: [
          {
            PodUID: 'u1',
            ContainerName: 'c',
            ResourceName: 'example.com/resource',
            DeviceIDs: { '-1': ['Dev-1'] },
            AllocResp: allocResp.toString('base64'),
          },
        ],
        RegisteredDevices: { 'example.com/resource': ['Dev-1', 'Dev-2'] },
      },
      Checksum: fnv32a(dump),
    });
    const parsed = parseDeviceCheckpoint(text, 'cp');
    expect(parsed.entries[0]).toMatchObject({ podUid: 'u1', devicesPerNuma: new Map([[-1, ['Dev-1']]]) });
    expect(parsed.entries[0]!.response.mounts).toEqual([
      { containerPath: '/tmp/Dev-1', hostPath: '/tmp/Dev-1', readOnly: false },
    ]);
  });

  it('writes a manager holding nothing with null entries, hashed as go-spew prints a nil slice', () => {
    const text = formatDeviceCheckpoint({ entries: [], registeredDevices: new Map() });
    expect(JSON.parse(text)).toEqual({
      Data: { PodDeviceEntries: null, RegisteredDevices: {} },
      Checksum: fnv32a(
        '(checkpoint.checkpointData){PodDeviceEntries:([]checkpoint.PodDevicesEntry)<nil> RegisteredDevices:(map[string][]string)map[]}',
      ),
    });
  });

  it('refuses a checkpoint whose checksum does not match with a typed error', () => {
    const text = formatDeviceCheckpoint({ entries: [], registeredDevices: new Map([['example.com/r', []]]) });
    expect(() => parseDeviceCheckpoint(text.replace('example.com/r', 'example.com/s'), '/x/cp')).toThrow(
      expect.objectContaining({ code: 'DEVICE_CHECKPOINT_CORRUPT', path: '/x/cp' }),
    );
    expect(() => parseDeviceCheckpoint('{', '/x/cp')).toThrow(
      expect.objectContaining({ code: 'DEVICE_CHECKPOINT_CORRUPT' }),
    );
  });
});
