import protobuf from 'protobufjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DECODE_OPTIONS, messageCodec } from '../src/codec';
import { messageType } from '../src/message-type';
import { runtimeV1Root } from '../src/reflection-root';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A sandbox request as a kubelet sends it: nested messages, maps, repeated messages, enums, int64. */
const runPodSandbox = {
  config: {
    metadata: { name: 'etcd-node1', uid: 'u-1', namespace: 'kube-system', attempt: 2 },
    hostname: 'node1',
    logDirectory: '/var/log/pods/kube-system_etcd-node1_u-1',
    dnsConfig: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5'] },
    portMappings: [{ protocol: 1, containerPort: 53, hostPort: 53, hostIp: '' }],
    labels: { component: 'etcd', tier: 'control-plane' },
    annotations: { 'kubernetes.io/config.source': 'file' },
    linux: {
      cgroupParent: '/kubepods/burstable/podu-1',
      securityContext: {
        namespaceOptions: { network: 2, pid: 1, ipc: 0 },
        runAsUser: { value: 0n },
        supplementalGroups: [1000n, 2000n],
        seccomp: { profileType: 0 },
      },
      sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      resources: { cpuPeriod: 100000n, cpuQuota: -1n, memoryLimitInBytes: 2n ** 40n },
    },
  },
  runtimeHandler: '',
};

describe('runtime.v1 message types without protobufjs reflection', () => {
  it('encode and decode without building the reflection root', () => {
    const fromJSON = vi.spyOn(protobuf.Root, 'fromJSON');
    const codec = messageCodec<typeof runPodSandbox>('RunPodSandboxRequest');
    const decoded = codec.decode(codec.encode(runPodSandbox));
    expect(decoded.config.labels).toEqual(runPodSandbox.config.labels);
    expect(decoded.config.linux.resources.memoryLimitInBytes).toBe(2n ** 40n);
    expect(fromJSON).not.toHaveBeenCalled();
  });

  it('put a kubelet request on the wire byte for byte as the reflection root', () => {
    const type = runtimeV1Root().lookupType('runtime.v1.RunPodSandboxRequest');
    const bytes = messageCodec('RunPodSandboxRequest').encode(runPodSandbox);
    expect(bytes).toEqual(Buffer.from(type.encode(type.fromObject(runPodSandbox)).finish()));
    expect(messageCodec('RunPodSandboxRequest').decode(bytes)).toEqual(
      type.toObject(type.decode(bytes), DECODE_OPTIONS),
    );
  });

  it('take enum names and give them back by name, as protobufjs Enum#values does both ways', () => {
    const light = messageType('runtime.v1.PortMapping');
    const reflected = runtimeV1Root().lookupType('runtime.v1.PortMapping');
    const value = { protocol: 'SCTP', containerPort: 80 };
    const bytes = light.encode(light.fromObject(value)).finish();
    expect(Buffer.from(bytes)).toEqual(Buffer.from(reflected.encode(reflected.fromObject(value)).finish()));
    const asNames = { enums: String, defaults: true };
    expect(light.toObject(light.decode(bytes), asNames)).toEqual({
      protocol: 'SCTP',
      containerPort: 80,
      hostPort: 0,
      hostIp: '',
    });
    // An enum number the proto does not name stays a number.
    const unnamed = light.encode(light.fromObject({ protocol: 7 })).finish();
    expect(light.toObject(light.decode(unnamed), asNames).protocol).toBe(7);
  });

  it('keep fields a newer runtime sends and this proto does not know, as protobufjs does', () => {
    // VersionResponse field 4 (runtime_api_version) and an unknown field 99 (string "x").
    const bytes = Buffer.from([0x22, 0x02, 0x76, 0x31, 0x9a, 0x06, 0x01, 0x78]);
    const light = messageType('runtime.v1.VersionResponse');
    const reflected = runtimeV1Root().lookupType('runtime.v1.VersionResponse');
    expect(Buffer.from(light.encode(light.decode(bytes)).finish())).toEqual(
      Buffer.from(reflected.encode(reflected.decode(bytes)).finish()),
    );
    expect(
      messageCodec<{ runtimeApiVersion: string }>('VersionResponse').decode(bytes).runtimeApiVersion,
    ).toBe('v1');
  });

  it('name each field with its resolved type, nested enums included', () => {
    expect(messageType('runtime.v1.SecurityProfile').fields[0]).toEqual({
      name: 'profileType',
      id: 1,
      type: 'runtime.v1.SecurityProfile.ProfileType',
    });
    expect(() => messageType('runtime.v1.Protocol')).toThrow(TypeError);
  });
});
