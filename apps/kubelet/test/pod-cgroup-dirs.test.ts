import type { Pod } from '@nodeagent/kubelet/api';
import { CgroupV1Filesystem, CgroupV2Filesystem, PodCgroupManager } from '@nodeagent/kubelet/cgroups';
import { describe, expect, it } from 'vitest';
import { podCgroupDirs } from '../src/pod-cgroup-dirs';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'default', uid: 'u-1' },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
};
const manager = (fs: CgroupV1Filesystem | CgroupV2Filesystem) =>
  new PodCgroupManager({ fs, cgroupDriver: 'cgroupfs', cgroupRoot: '/' });
const lookup = (uid: string) => (uid === 'u-1' ? pod : undefined);

describe('podCgroupDirs (the summary PSI source of the binary)', () => {
  it('on cgroup v2 names the pod cgroup under the mount root, and nothing for a pod the kubelet does not hold', () => {
    const dirs = podCgroupDirs(manager(new CgroupV2Filesystem('/mnt/cg2')), lookup);
    expect(dirs?.podDir('u-1')).toBe('/mnt/cg2/kubepods/burstable/podu-1');
    expect(dirs?.podDir('other')).toBeUndefined();
  });

  it('is absent on cgroup v1 (no pressure files there) and without pod cgroups', () => {
    expect(podCgroupDirs(manager(new CgroupV1Filesystem('/mnt/cg1')), lookup)).toBeUndefined();
    expect(podCgroupDirs(undefined, lookup)).toBeUndefined();
  });
});
