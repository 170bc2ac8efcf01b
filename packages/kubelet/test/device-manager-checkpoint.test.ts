import { describe, expect, it } from 'vitest';
import { fnv32a } from '../src/deep-hash';
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

  it('reads back checkpoints upstream kubelets wrote on real nodes, and writes the same bytes', () => {
    // A GPU plugin's allocation without NUMA affinity (-1), and one on NUMA node 0 with device
    // nodes, each as an upstream kubelet left it in device-plugins/kubelet_internal_checkpoint.
    const written = [
      '{"Data":{"PodDeviceEntries":[{"PodUID":"bf52b2cd-b611-4e79-86b1-280b283185c3","ContainerName":"check","ResourceName":"nvidia.com/gpu","DeviceIDs":{"-1":["tegra"]},"AllocResp":"Ch8KFk5WSURJQV9WSVNJQkxFX0RFVklDRVMSBXRlZ3Jh"}],"RegisteredDevices":{"nvidia.com/gpu":["tegra"]}},"Checksum":3660592824}',
      '{"Data":{"PodDeviceEntries":[{"PodUID":"513cb897-0262-4868-826f-aa943ee45a38","ContainerName":"app","ResourceName":"nvidia.com/gpu","DeviceIDs":{"0":["GPU-77a702db-e37f-3a74-d46d-c5713f66058c"]},"AllocResp":"CkIKFk5WSURJQV9WSVNJQkxFX0RFVklDRVMSKEdQVS03N2E3MDJkYi1lMzdmLTNhNzQtZDQ2ZC1jNTcxM2Y2NjA1OGMaJAoOL2Rldi9udmlkaWFjdGwSDi9kZXYvbnZpZGlhY3RsGgJydxomCg8vZGV2L252aWRpYS11dm0SDy9kZXYvbnZpZGlhLXV2bRoCcncaMgoVL2Rldi9udmlkaWEtdXZtLXRvb2xzEhUvZGV2L252aWRpYS11dm0tdG9vbHMaAnJ3Gi4KEy9kZXYvbnZpZGlhLW1vZGVzZXQSEy9kZXYvbnZpZGlhLW1vZGVzZXQaAnJ3GiAKDC9kZXYvbnZpZGlhMBIML2Rldi9udmlkaWEwGgJydw=="}],"RegisteredDevices":{"nvidia.com/gpu":["GPU-77a702db-e37f-3a74-d46d-c5713f66058c","GPU-9b341c59-f96b-ba85-c137-78c3652fea65","GPU-c1e9f249-b37b-81c2-a8d9-ba5ca0294841"]}},"Checksum":133412836}',
    ];
    const [withoutNuma, onNode0] = written.map((text) => parseDeviceCheckpoint(text, 'cp'));
    expect(withoutNuma!.entries[0]).toMatchObject({
      podUid: 'bf52b2cd-b611-4e79-86b1-280b283185c3',
      devicesPerNuma: new Map([[-1, ['tegra']]]),
    });
    expect(withoutNuma!.entries[0]!.response.envs).toEqual({ NVIDIA_VISIBLE_DEVICES: 'tegra' });
    expect(onNode0!.entries[0]!.devicesPerNuma).toEqual(
      new Map([[0, ['GPU-77a702db-e37f-3a74-d46d-c5713f66058c']]]),
    );
    expect(onNode0!.entries[0]!.response.devices).toContainEqual({
      containerPath: '/dev/nvidia0',
      hostPath: '/dev/nvidia0',
      permissions: 'rw',
    });
    expect(onNode0!.registeredDevices.get('nvidia.com/gpu')).toHaveLength(3);
    expect([withoutNuma, onNode0].map((checkpoint) => formatDeviceCheckpoint(checkpoint!))).toEqual(written);
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
