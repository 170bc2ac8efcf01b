import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { procSysctlLayer, SysctlWriteError, sysctlPath } from '../src/runtime/index';

// A temp directory stands in for /proc/sys: the layer only opens files under its root.
let root: string;

/** Creates the file a key names, as the kernel shows it (value and newline). */
function seed(rel: string, content: string): string {
  const file = join(root, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content);
  return file;
}

async function refusal(p: Promise<unknown>): Promise<SysctlWriteError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SysctlWriteError);
  return err as SysctlWriteError;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), `na-proc-sysctl-${process.pid}-`));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('sysctlPath', () => {
  it('turns dots into slashes and a slash inside a dotted key into a dot', () => {
    expect(sysctlPath('net.ipv4.conf.all.route_localnet')).toBe('/proc/sys/net/ipv4/conf/all/route_localnet');
    expect(sysctlPath('net.ipv4.conf.eth0/100.rp_filter', '/r')).toBe('/r/net/ipv4/conf/eth0.100/rp_filter');
  });

  it('takes a key whose first separator is a slash as a path', () => {
    expect(sysctlPath('net/ipv4/conf/eth0.100/rp_filter', '/r')).toBe('/r/net/ipv4/conf/eth0.100/rp_filter');
  });
});

describe('procSysctlLayer over a stand-in directory', () => {
  it('reads values without the trailing newline, keeping inner tabs, and leaves missing keys out', async () => {
    seed('net/ipv4/ip_forward', '0\n');
    seed('net/ipv4/ip_local_port_range', '32768\t60999\n');
    const got = await procSysctlLayer(root).get([
      'net.ipv4.ip_forward',
      'net.netfilter.nf_conntrack_max',
      'net.ipv4.ip_local_port_range',
    ]);
    expect([...got]).toEqual([
      ['net.ipv4.ip_forward', '0'],
      ['net.ipv4.ip_local_port_range', '32768\t60999'],
    ]);
  });

  it('writes each value to its file, replacing what was there', async () => {
    const forward = seed('net/ipv4/ip_forward', '0\n');
    const localnet = seed('net/ipv4/conf/all/route_localnet', '0\n');
    const layer = procSysctlLayer(root);
    await layer.set([
      ['net.ipv4.ip_forward', '1'],
      ['net.ipv4.conf.all.route_localnet', '1'],
    ]);
    expect(readFileSync(forward, 'utf8')).toBe('1');
    expect(readFileSync(localnet, 'utf8')).toBe('1');
    expect(await layer.get(['net.ipv4.ip_forward'])).toEqual(new Map([['net.ipv4.ip_forward', '1']]));
  });

  it('refuses a key that does not exist (ENOENT) instead of creating its file', async () => {
    mkdirSync(join(root, 'net/netfilter'), { recursive: true });
    const err = await refusal(procSysctlLayer(root).set([['net.netfilter.nf_conntrack_max', '131072']]));
    expect(err.errno).toBe('ENOENT');
    expect(err.message).toMatch(/^sysctl net\.netfilter\.nf_conntrack_max=131072: ENOENT: no such file/);
    expect(await procSysctlLayer(root).get(['net.netfilter.nf_conntrack_max'])).toEqual(new Map());
  });

  it('stops at a refused write, naming the key, the value and the reason (EISDIR, refused even to root)', async () => {
    const forward = seed('net/ipv4/ip_forward', '0\n');
    mkdirSync(join(root, 'net/ipv4/conf/all/route_localnet'), { recursive: true });
    const err = await refusal(
      procSysctlLayer(root).set([
        ['net.ipv4.conf.all.route_localnet', '1'],
        ['net.ipv4.ip_forward', '1'],
      ]),
    );
    expect(err).toMatchObject({
      code: 'SYSCTL_WRITE',
      key: 'net.ipv4.conf.all.route_localnet',
      value: '1',
      path: join(root, 'net/ipv4/conf/all/route_localnet'),
      errno: 'EISDIR',
    });
    expect(err.message).toBe(
      `sysctl net.ipv4.conf.all.route_localnet=1: EISDIR: illegal operation on a directory, open '${err.path}'`,
    );
    // Like upstream's sequence of EnsureSysctl calls, nothing after the refusal is written.
    expect(readFileSync(forward, 'utf8')).toBe('0\n');
  });

  it('refuses a write below a file (ENOTDIR), which root cannot bypass either', async () => {
    seed('net/ipv4', 'not a directory\n');
    const err = await refusal(procSysctlLayer(root).set([['net.ipv4.ip_forward', '1']]));
    expect(err.errno).toBe('ENOTDIR');
    expect(await procSysctlLayer(root).get(['net.ipv4.ip_forward'])).toEqual(new Map());
  });
});
