import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, type Netns } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// rtnetlinkLinkLayer against the real kernel, inside a throwaway namespace: a child node process
// runs there (netlink sockets belong to the namespace of the process that opens them). This
// host kernel has no dummy link type, so the addresses go on a veth; creating kube-ipvs0 is
// covered by the ipvs daemon test in the micro-VM.

const layerPath = join(import.meta.dirname, '../../src/ipvs/rtnetlink-link-layer.ts');

const SCRIPT = `
import { execFileSync } from 'node:child_process';
import { rtnetlinkLinkLayer } from ${JSON.stringify(layerPath)};
const l = rtnetlinkLinkLayer();
const out = {};
out.exists = await l.linkExists('v1');
out.missing = await l.linkExists('kube-ipvs0');
await l.addAddresses('v1', ['10.96.0.1', '10.96.0.2', 'fd00::10']);
await l.addAddresses('v1', ['10.96.0.1']);
out.afterAdd = await l.listAddresses('v1');
await l.deleteAddresses('v1', ['10.96.0.2', '10.96.0.99']);
out.afterDelete = await l.listAddresses('v1');
out.local4 = await l.localAddresses('IPv4', 'v1');
out.local6 = await l.localAddresses('IPv6', 'v1');
// A node address added after a lookup is seen by a later one (its notification makes it dump
// again); Service IPs added to the excluded link are not.
await l.addAddresses('v1', ['10.96.0.7']);
execFileSync('ip', ['addr', 'add', '192.0.2.6/24', 'dev', 'v0']);
let later = [];
for (let i = 0; i < 200 && !later.includes('192.0.2.6'); i++) {
  await new Promise((r) => setTimeout(r, 10));
  later = await l.localAddresses('IPv4', 'v1');
}
out.localAfterAdd = later.sort();
await l.deleteAddresses('v1', ['10.96.0.7']);
out.noLink = await l.listAddresses('kube-ipvs0');
await l.deleteAddresses('kube-ipvs0', ['10.96.0.1']);
out.addToMissing = await l.addAddresses('kube-ipvs0', ['10.96.0.3']).then(() => 'ok', (e) => e.code);
// More than one window of requests in flight (64), one of them already bound.
const many = Array.from({ length: 300 }, (_, i) => '10.97.' + (i >> 8) + '.' + (i & 255));
await l.addAddresses('v1', [...many, '10.96.0.1']);
out.bulk = (await l.listAddresses('v1')).filter((a) => a.startsWith('10.97.')).length;
await l.deleteAddresses('v1', [...many, '10.97.9.9']);
out.afterBulk = await l.listAddresses('v1');
l.close();
process.stdout.write(JSON.stringify(out));
`;

let ns: Netns;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-rtnl-${process.pid}-`));
  writeFileSync(join(dir, 'layer.mts'), SCRIPT);
  ns = await createNetns({ purpose: 'kprtnl' });
  await ns.exec('ip', ['link', 'set', 'lo', 'up']);
  await ns.exec('ip', ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
  await ns.exec('ip', ['addr', 'add', '192.0.2.5/24', 'dev', 'v0']);
  await ns.exec('ip', ['-6', 'addr', 'add', '2001:db8::5/64', 'dev', 'v0', 'nodad']);
  await ns.exec('ip', ['link', 'set', 'v0', 'up']);
}, 30_000);

afterAll(async () => {
  await ns?.delete();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rtnetlinkLinkLayer (in a namespace)', { timeout: 30_000 }, () => {
  it('adds, lists and deletes service addresses idempotently, as the kernel sees them', async () => {
    const r = await ns.exec(process.execPath, [
      '--import',
      'tsx',
      '--conditions=@nodeagent/source',
      join(dir, 'layer.mts'),
    ]);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      exists: true,
      missing: false,
      afterAdd: ['10.96.0.1', '10.96.0.2', 'fd00::10'],
      afterDelete: ['10.96.0.1', 'fd00::10'],
      local4: ['192.0.2.5'],
      // The family's addresses only; v0's link-local fe80:: one is left out as upstream does.
      local6: ['2001:db8::5'],
      localAfterAdd: ['192.0.2.5', '192.0.2.6'],
      noLink: [],
      addToMissing: 'LINK_NOT_FOUND',
      bulk: 300,
      afterBulk: ['10.96.0.1', 'fd00::10'],
    });
    const kernel = (await ns.exec('ip', ['-o', 'addr', 'show', 'dev', 'v1'])).stdout;
    expect(kernel).toContain('inet 10.96.0.1/32');
    expect(kernel).toContain('inet6 fd00::10/128');
    expect(kernel).not.toContain('10.96.0.2');
  });
});
