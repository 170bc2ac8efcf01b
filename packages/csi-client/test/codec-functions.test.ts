import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TO_OBJECT } from '@nodeagent/plugin-api/codec';
import { describe, expect, it } from 'vitest';
import { generatedModules } from '../scripts/generate-codecs';
import { messageType } from '../src/message-type';
import { csiV1Root } from '../src/proto-roots';

const generated = (name: string) =>
  readFileSync(join(import.meta.dirname, '..', 'src', 'generated', name), 'utf8');

describe('precompiled codecs', () => {
  it('match what the installed protobufjs generates (run scripts/generate-codecs.ts after a change)', () => {
    const { codecs, methods } = generatedModules();
    expect(generated('codec-functions.ts') === codecs).toBe(true);
    expect(generated('service-methods.ts')).toBe(methods);
  });

  it("encode and decode as protobufjs's reflection does", () => {
    const request = {
      volumeId: 'vol-1',
      targetPath: '/t',
      stagingTargetPath: '/s',
      volumeCapability: { accessMode: { mode: 'SINGLE_NODE_MULTI_WRITER' }, mount: { mountFlags: ['ro'] } },
      readonly: true,
      volumeContext: { 'csi.storage.k8s.io/ephemeral': 'false' },
    };
    const reflected = csiV1Root().lookupType('csi.v1.NodePublishVolumeRequest');
    const precompiled = messageType('csi.v1.NodePublishVolumeRequest');
    const bytes = precompiled.encode(precompiled.fromObject(request)).finish();
    expect(Buffer.from(bytes)).toEqual(Buffer.from(reflected.encode(reflected.fromObject(request)).finish()));
    expect(precompiled.toObject(precompiled.decode(bytes), TO_OBJECT)).toEqual(
      reflected.toObject(reflected.decode(bytes), TO_OBJECT),
    );
    const info = messageType('csi.v1.NodeGetInfoResponse');
    const big = info.encode(info.fromObject({ nodeId: 'n', maxVolumesPerNode: 2 ** 40 })).finish();
    expect(info.toObject(info.decode(big), TO_OBJECT)).toMatchObject({
      nodeId: 'n',
      maxVolumesPerNode: 2 ** 40,
    });
  });
});
