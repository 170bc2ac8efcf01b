import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { descriptorOf } from '../scripts/descriptor-of';
import { csiV1Descriptor } from '../src/generated/csi-v1-descriptor';

const proto = (name: string) => join(import.meta.dirname, '..', 'proto', name);

describe('generated descriptors', () => {
  it('match proto/csi.proto (run `npm run generate -w @nodeagent/csi-client` after editing it)', () => {
    expect(JSON.parse(JSON.stringify(csiV1Descriptor))).toEqual(
      JSON.parse(JSON.stringify(descriptorOf(proto('csi.proto')))),
    );
  });

  it('keep the field numbers of the wire contract', () => {
    const node = csiV1Descriptor.nested.csi.nested.v1.nested;
    expect(node.NodePublishVolumeRequest.fields.targetPath.id).toBe(4);
    expect(node.NodeStageVolumeRequest.fields.stagingTargetPath.id).toBe(3);
    expect(node.NodeGetInfoResponse.fields.maxVolumesPerNode.id).toBe(2);
  });
});
