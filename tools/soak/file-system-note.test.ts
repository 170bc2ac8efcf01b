import { readFileSync } from 'node:fs';
import { parseMountinfo } from '@nodeagent/testing/netns';
import { describe, expect, it } from 'vitest';
import { fileSystemNote, mountHolding } from './file-system-note';

// /proc/self/mountinfo lines: mount ID, parent, major:minor, root, mount point, options, " - ", type, source.
const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '30 22 0:26 / /tmp rw - tmpfs tmpfs rw',
  '31 22 254:16 / /var/lib rw - ext4 /dev/vdb rw',
  '32 31 254:32 / /var/lib/kube\\040let rw - xfs /dev/vdc rw',
  '33 30 254:16 / /tmp rw - ext4 /dev/vdb rw',
].join('\n');

describe("the soak's note of the file system under the kubelet", () => {
  it('picks the longest mount point holding the path, and the later of two at one point', () => {
    const mounts = parseMountinfo(MOUNTINFO);
    expect(mountHolding(mounts, '/var/lib/kube let/pods')?.fsType).toBe('xfs');
    expect(mountHolding(mounts, '/var/lib/kubelet')?.source).toBe('/dev/vdb');
    expect(mountHolding(mounts, '/tmp/na-soak-1')?.device).toBe('254:16');
    expect(mountHolding(mounts, '/work')?.point).toBe('/');
  });

  it("says whether an ext4 journals, from its journal thread's name", () => {
    const journals: Record<string, string> = { '254:0': '<none>', '254:16': 'jbd2/vdb-8' };
    const read = (device: string) => journals[device];
    expect(fileSystemNote('/work/x', MOUNTINFO, read)).toMatch(
      /^\/work\/x is on ext4 \(\/dev\/vda\) mounted at \/, without a journal: /,
    );
    expect(fileSystemNote('/var/lib/kubelet', MOUNTINFO, read)).toBe(
      '/var/lib/kubelet is on ext4 (/dev/vdb) mounted at /var/lib, with a journal',
    );
    expect(fileSystemNote('/var/lib/kube let', MOUNTINFO, read)).toBe(
      '/var/lib/kube let is on xfs (/dev/vdc) mounted at /var/lib/kube let',
    );
    expect(fileSystemNote('/work', MOUNTINFO, () => undefined)).toContain(
      'its journal unknown (no /sys/fs/ext4 entry for 254:0)',
    );
    expect(fileSystemNote('/x', '30 22 0:26 / /tmp rw - tmpfs tmpfs rw')).toBe(
      'no mount in /proc/self/mountinfo holds /x',
    );
  });

  it("names this machine's root file system from the real mountinfo and sysfs", () => {
    const note = fileSystemNote('/');
    const root = mountHolding(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), '/');
    expect(note).toContain(`/ is on ${root?.fsType} (${root?.source}) mounted at /`);
  });
});
