import { CommandFailedError } from '@nodeagent/primitives';
import { createNetns, type Netns } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execSysctlLayer } from '../../src/runtime/index';

// `sysctl -w` exits 0 when the kernel refuses a write; the layer must still report it, or node
// set-up would believe nf_conntrack_max was raised (and go on to resize the machine-wide
// conntrack hash table). Runs in a namespace of its own: the host's values never change.
let ns: Netns;

beforeAll(async () => {
  ns = await createNetns({ purpose: 'sysctl-layer' });
});

afterAll(async () => {
  await ns?.delete();
});

describe('execSysctlLayer in a network namespace', () => {
  it('sets a namespaced value and reads it back', async () => {
    const layer = execSysctlLayer(['ip', 'netns', 'exec', ns.name]);
    await layer.set([['net.ipv4.conf.all.route_localnet', '1']]);
    expect(
      (await layer.get(['net.ipv4.conf.all.route_localnet'])).get('net.ipv4.conf.all.route_localnet'),
    ).toBe('1');
  });

  it('rejects a write the kernel refuses although sysctl exits 0', async () => {
    const layer = execSysctlLayer(['ip', 'netns', 'exec', ns.name]);
    const key = 'net.netfilter.nf_conntrack_max';
    const before = (await layer.get([key])).get(key);
    const err = await layer.set([[key, String(Number(before) * 2)]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as CommandFailedError).stderr).toContain(key);
    expect((await layer.get([key])).get(key)).toBe(before);
  });
});
