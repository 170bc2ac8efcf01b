import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertIfName,
  assertNoHostLeaks,
  cleanupStaleNetns,
  creatorPidOf,
  describeLeaks,
  diffHostSnapshots,
  HostLeakError,
  type HostSnapshot,
  hasLeaks,
  InvalidNetnsNameError,
  listTempLoopDevices,
  parseLinkNames,
  parseRelevantMounts,
  uniqueIfName,
  uniqueNetnsName,
} from '../src/netns/index';

describe('netns names', () => {
  it('encodes purpose, pid and randomness and can recover the pid', () => {
    const name = uniqueNetnsName('iptables-apply', { random: () => 'abcd1234' });
    expect(name).toBe(`na-iptables-apply-${process.pid}-abcd1234`);
    expect(creatorPidOf(name)).toBe(process.pid);
    expect(creatorPidOf(uniqueNetnsName('x', { ownerPid: 42 }))).toBe(42);
  });

  it('gives different names on each call', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueNetnsName('t')));
    expect(names.size).toBe(50);
  });

  it('ignores names it did not make', () => {
    expect(creatorPidOf('cni-1234')).toBeUndefined();
    expect(creatorPidOf('na-foo')).toBeUndefined();
  });

  it('rejects bad purposes and interface names with a typed error', () => {
    expect(() => uniqueNetnsName('Bad/Purpose')).toThrow(InvalidNetnsNameError);
    expect(() => assertIfName('ifName', 'a-name-longer-than-15')).toThrow(/ifName/);
    const ifName = uniqueIfName('a');
    expect(ifName.length).toBeLessThanOrEqual(15);
    expect(ifName.endsWith('a')).toBe(true);
  });
});

describe('host snapshot parsing', () => {
  it('reads link names from ip -o link', () => {
    const out =
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00\n' +
      '7: veth9@if6: <BROADCAST> mtu 1500 qdisc noop state DOWN\\    link/ether 1a:2b\n';
    expect(parseLinkNames(out)).toEqual(['lo', 'veth9']);
  });

  it('keeps nsfs, /run/netns and overlay mounts but not the /run/netns directory itself', () => {
    const info = [
      '25 1 0:22 / /run rw,nosuid - tmpfs tmpfs rw',
      '600 25 0:22 /netns /run/netns rw shared:5 - tmpfs tmpfs rw',
      '601 600 0:4 net:[4026532] /run/netns/na-x-1-ab rw shared:6 - nsfs nsfs rw',
      '700 1 0:50 / /var/lib/c/rootfs\\040x rw - overlay overlay rw,lowerdir=/a',
    ].join('\n');
    expect(parseRelevantMounts(info)).toEqual(['nsfs /run/netns/na-x-1-ab', 'overlay /var/lib/c/rootfs x']);
  });

  it('keeps any mount in the temp directory (a volume a test kubelet left mounted), not the directory itself', () => {
    const info = [
      '40 1 0:30 / /scratch rw - tmpfs tmpfs rw',
      '41 40 0:31 / /scratch/na-k-1/pods/u/volumes/kubernetes.io~secret/s rw - tmpfs tmpfs rw',
      '42 40 8:0 /dev/loop3 /scratch/na-k-1/plugins/kubernetes.io/csi/volumeDevices/pv/dev/u rw - devtmpfs udev rw',
      '43 1 0:32 / /scratchy rw - tmpfs tmpfs rw',
    ].join('\n');
    expect(parseRelevantMounts(info, '/scratch')).toEqual([
      'tmpfs /scratch/na-k-1/pods/u/volumes/kubernetes.io~secret/s',
      'devtmpfs /scratch/na-k-1/plugins/kubernetes.io/csi/volumeDevices/pv/dev/u',
    ]);
  });

  it('lists loop devices over files in the temp directory, by device and backing file', async () => {
    const sys = await mkdtemp(join(tmpdir(), 'na-sys-block-'));
    try {
      const loop = async (name: string, backing?: string) => {
        await mkdir(join(sys, name, 'loop'), { recursive: true });
        if (backing !== undefined) await writeFile(join(sys, name, 'loop', 'backing_file'), `${backing}\n`);
      };
      await loop('loop0', '/scratch/na-k-1/disk.img');
      await loop('loop1', '/var/lib/images/other.img');
      await loop('loop2'); // not set up: the kernel has no backing_file then
      await loop('loop7', '/scratch/na-k-1/plugins/dev/u (deleted)');
      await mkdir(join(sys, 'sda'));
      expect(await listTempLoopDevices('/scratch', sys)).toEqual([
        '/dev/loop0 /scratch/na-k-1/disk.img',
        '/dev/loop7 /scratch/na-k-1/plugins/dev/u',
      ]);
    } finally {
      await rm(sys, { recursive: true, force: true });
    }
  });

  it('reports only what appeared after the snapshot', () => {
    const before: HostSnapshot = {
      netns: ['a'],
      links: ['lo', 'eth0'],
      mounts: [],
      cgroups: ['/c/k8s.io/x'],
      loopDevices: ['/dev/loop0 /tmp/disk.img'],
    };
    const after: HostSnapshot = {
      netns: ['b'],
      links: ['lo', 'eth0', 'nvx'],
      mounts: ['nsfs /run/netns/b'],
      cgroups: ['/c/k8s.io/x', '/c/k8s.io/y'],
      loopDevices: ['/dev/loop0 /tmp/disk.img', '/dev/loop1 /tmp/na-x/plugins/dev/uid'],
    };
    const leaks = diffHostSnapshots(before, after);
    expect(leaks).toEqual({
      netns: ['b'],
      links: ['nvx'],
      mounts: ['nsfs /run/netns/b'],
      cgroups: ['/c/k8s.io/y'],
      loopDevices: ['/dev/loop1 /tmp/na-x/plugins/dev/uid'],
    });
    expect(describeLeaks(leaks)).toContain('network namespaces: b');
    expect(describeLeaks(leaks)).toContain('container cgroups: /c/k8s.io/y');
    expect(describeLeaks(leaks)).toContain('loop devices: /dev/loop1 /tmp/na-x/plugins/dev/uid');
    expect(hasLeaks({ netns: [], links: [], mounts: [], cgroups: ['/c/k8s.io/y'], loopDevices: [] })).toBe(
      true,
    );
    expect(
      hasLeaks({ netns: [], links: [], mounts: [], cgroups: [], loopDevices: ['/dev/loop1 /tmp/x'] }),
    ).toBe(true);
  });

  it('waits for leftovers to settle, then throws naming them', async () => {
    const before: HostSnapshot = { netns: [], links: ['lo'], mounts: [], cgroups: [], loopDevices: [] };
    let calls = 0;
    const settling = async () => ({
      netns: [],
      links: calls++ < 2 ? ['lo', 'gone'] : ['lo'],
      mounts: [],
      cgroups: [],
      loopDevices: [],
    });
    await expect(
      assertNoHostLeaks(before, { snapshot: settling, sleep: async () => {} }),
    ).resolves.toBeUndefined();
    expect(calls).toBe(3);
    const stuck = async () => ({
      netns: ['na-x-1-aa'],
      links: ['lo'],
      mounts: [],
      cgroups: [],
      loopDevices: [],
    });
    const error = await assertNoHostLeaks(before, {
      snapshot: stuck,
      sleep: async () => {},
      settleMs: 400,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostLeakError);
    expect((error as HostLeakError).leaks.netns).toEqual(['na-x-1-aa']);
    expect((error as HostLeakError).message).toContain('na-x-1-aa');
  });
});

describe('cleanupStaleNetns', () => {
  it('deletes only our namespaces whose creator is gone', async () => {
    const removed: string[] = [];
    const deleted = await cleanupStaleNetns({
      list: async () => ['na-a-100-aa', 'na-b-200-bb', 'cni-123', 'na-c-300-cc'],
      isAlive: (pid) => pid === 200,
      remove: async (name) => {
        removed.push(name);
      },
    });
    expect(deleted).toEqual(['na-a-100-aa', 'na-c-300-cc']);
    expect(removed).toEqual(deleted);
  });
});
