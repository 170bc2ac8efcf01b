import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNetns, type Netns } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../tools/bundle/bundle-entry';

// procSysctlLayer in a child process inside a namespace of this test's own: /proc/sys/net shows
// the network namespace of the process that opens the file, so the child's writes land there and
// the host's values never change (each test asserts so).
const LOCALNET = 'net.ipv4.conf.all.route_localnet';
const FORWARD = 'net.ipv4.ip_forward';
const CONNTRACK_MAX = 'net.netfilter.nf_conntrack_max';

interface ChildReport {
  values: Record<string, string>;
  error?: { name: string; code: string; errno: string; key: string; value: string; message: string };
}

let ns: Netns;
let child: { file: string; dispose(): void } | undefined;

beforeAll(async () => {
  child = bundleEntry(fileURLToPath(new URL('./proc-sysctl-child.ts', import.meta.url)));
  ns = await createNetns({ purpose: 'proc-sysctl' });
});

afterAll(async () => {
  await ns?.delete();
  child?.dispose();
});

/** The layer in a child in the namespace, with an empty PATH: no sysctl binary to fall back on. */
async function inNamespace(writes: [string, string][], reads: string[]): Promise<ChildReport> {
  // env(1) by path empties the environment after nsenter (found through this process's PATH).
  const argv = ['-i', 'PATH=', process.execPath, child!.file, JSON.stringify(writes), JSON.stringify(reads)];
  const r = await ns.exec('/usr/bin/env', argv);
  return JSON.parse(r.stdout) as ChildReport;
}

const host = (key: string) => readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();

describe('procSysctlLayer in a network namespace', () => {
  it('reads and writes route_localnet and ip_forward of its own namespace only', async () => {
    const hostBefore = [host(LOCALNET), host(FORWARD)];
    const before = await inNamespace([], [LOCALNET, FORWARD]);
    // A fresh namespace starts with both off, whatever the host has.
    expect(before).toEqual({ values: { [LOCALNET]: '0', [FORWARD]: '0' } });
    const after = await inNamespace(
      [
        [LOCALNET, '1'],
        [FORWARD, '1'],
      ],
      [LOCALNET, FORWARD, 'net.ipv4.no_such_key'],
    );
    expect(after).toEqual({ values: { [LOCALNET]: '1', [FORWARD]: '1' } });
    expect([host(LOCALNET), host(FORWARD)]).toEqual(hostBefore);
  });

  it('reports the kernel refusing nf_conntrack_max outside the initial namespace, naming key and reason', async () => {
    const hostMax = host(CONNTRACK_MAX);
    const { values } = await inNamespace([], [CONNTRACK_MAX]);
    const want = String(Number(values[CONNTRACK_MAX]) * 2);
    const r = await inNamespace([[CONNTRACK_MAX, want]], [CONNTRACK_MAX]);
    expect(r.error).toMatchObject({
      name: 'SysctlWriteError',
      code: 'SYSCTL_WRITE',
      key: CONNTRACK_MAX,
      value: want,
    });
    // Read-only (EACCES) on current kernels; older ones took the open and refused the write (EINVAL).
    expect(['EACCES', 'EINVAL']).toContain(r.error!.errno);
    expect(r.error!.message).toContain(`sysctl ${CONNTRACK_MAX}=${want}: ${r.error!.errno}`);
    expect(r.values).toEqual(values);
    expect(host(CONNTRACK_MAX)).toBe(hostMax);
  });
});
