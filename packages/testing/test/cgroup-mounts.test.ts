import { describe, expect, it } from 'vitest';
import { cgroupDirs, parseCgroupMounts } from '../src/netns/cgroup-mounts';

// /proc/self/mountinfo lines: mount ID, parent, major:minor, root, mount point, options, " - ", type.
const v1 = [
  '30 24 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '40 24 0:40 / /tmp rw - ext4 /dev/vda rw',
].join('\n');

describe('cgroup mounts', () => {
  it('lists every v1 controller hierarchy, and nothing on other filesystems', () => {
    const mounts = parseCgroupMounts(v1);
    expect(mounts.map((m) => m.point)).toEqual(['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct']);
    expect(cgroupDirs('/k8s.io/abc', mounts)).toEqual([
      '/sys/fs/cgroup/memory/k8s.io/abc',
      '/sys/fs/cgroup/cpu,cpuacct/k8s.io/abc',
    ]);
  });

  it('finds a path once in a v2 tree', () => {
    const v2 = parseCgroupMounts('29 24 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate');
    expect(cgroupDirs('/kubepods/pod1/abc', v2)).toEqual(['/sys/fs/cgroup/kubepods/pod1/abc']);
  });

  it("maps through a mount whose root is not the hierarchy's root, and skips paths outside it", () => {
    const nested = parseCgroupMounts('50 24 0:25 /ci/job1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(cgroupDirs('/ci/job1/k8s.io/abc', nested)).toEqual(['/sys/fs/cgroup/k8s.io/abc']);
    expect(cgroupDirs('/ci/job1', nested)).toEqual(['/sys/fs/cgroup']);
    expect(cgroupDirs('/ci/job10/abc', nested)).toEqual([]);
    expect(cgroupDirs('/other/abc', nested)).toEqual([]);
  });
});
