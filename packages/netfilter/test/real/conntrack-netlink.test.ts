import { NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConntrackNetlink } from '../../src/conntrack/index';
import { NetnsChannel } from '../../src/nftables/netlink/netns-channel';

// ctnetlink against the conntrack tool, in a throwaway namespace: entries inserted with
// `conntrack -I` are what the dump decodes, and a delete over netlink is gone from `conntrack -L`.

const scope = new NetnsScope('ctnl');

/** `conntrack -I` of one UDP (or TCP) entry NATed to a backend, as a DNAT rule would leave it. */
function insert(
  proto: string,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  backend: string,
  bport: number,
) {
  const tcp = proto === 'tcp' ? ['--state', 'ESTABLISHED'] : [];
  return ['-I', '-p', proto, '-s', src, '-d', dst, '--sport', String(sport), '--dport', String(dport)]
    .concat(['-r', backend, '-q', src, '--reply-port-src', String(bport), '--reply-port-dst', String(sport)])
    .concat(['-t', '120', ...tcp]);
}

describe('conntrack over ctnetlink (in a namespace)', { timeout: 60_000 }, () => {
  let ct: ConntrackNetlink;
  let ns: Awaited<ReturnType<NetnsScope['create']>>;

  beforeAll(async () => {
    ns = await scope.create();
    await ns.exec('conntrack', insert('udp', '10.0.0.2', '10.96.0.53', 40053, 53, '10.244.1.5', 5353));
    await ns.exec('conntrack', insert('udp', '10.0.0.3', '10.96.0.53', 40054, 53, '10.244.1.6', 5353));
    await ns.exec('conntrack', insert('tcp', '10.0.0.2', '10.96.0.80', 40080, 80, '10.244.1.5', 8080));
    await ns.exec('conntrack', insert('udp', 'fd00::2', 'fd00:96::53', 1, 53, 'fd00:244::5', 5353));
    ct = new ConntrackNetlink(await NetnsChannel.open(ns.path));
  });

  afterAll(async () => {
    ct?.close();
    await scope.cleanup();
  });

  it('dumps what conntrack -L lists, per family', async () => {
    const v4 = await ct.listEntries('ipv4');
    const listed = (await ns.exec('conntrack', ['-L', '-f', 'ipv4'])).stdout;
    expect(v4).toHaveLength(listed.trim().split('\n').length);
    expect(v4).toHaveLength(3);
    const udp = v4.find((f) => f.original.srcPort === 40053);
    expect(udp).toMatchObject({
      family: 'ipv4',
      original: { src: '10.0.0.2', dst: '10.96.0.53', protocol: 17, srcPort: 40053, dstPort: 53 },
      reply: { src: '10.244.1.5', dst: '10.0.0.2', protocol: 17, srcPort: 5353, dstPort: 40053 },
      zone: 0,
    });
    expect(v4.find((f) => f.original.protocol === 6)?.reply.srcPort).toBe(8080);
    const v6 = await ct.listEntries('ipv6');
    expect(v6.map((f) => [f.original.dst, f.reply.src])).toEqual([['fd00:96::53', 'fd00:244::5']]);
  });

  it('lists only UDP entries when asked: the kernel filters the dump by protocol', async () => {
    const udp = await ct.listEntries('ipv4', 17);
    expect(udp.map((f) => [f.original.protocol, f.original.srcPort]).sort()).toEqual([
      [17, 40053],
      [17, 40054],
    ]);
    expect((await ct.listEntries('ipv4', 6)).map((f) => f.reply.srcPort)).toEqual([8080]);
    expect((await ct.listEntries('ipv6', 17)).map((f) => f.original.dst)).toEqual(['fd00:96::53']);
  });

  it('deletes one entry by its tuple; the others stay; a second delete finds it gone (ENOENT)', async () => {
    const v4 = await ct.listEntries('ipv4');
    const stale = v4.filter((f) => f.reply.src === '10.244.1.6');
    expect(stale).toHaveLength(1);
    expect(await ct.deleteEntries(stale)).toBe(1);
    const listed = (await ns.exec('conntrack', ['-L', '-f', 'ipv4'])).stdout;
    expect(listed).not.toContain('src=10.244.1.6');
    expect(listed).toContain('src=10.244.1.5 dst=10.0.0.2 sport=5353');
    expect(listed).toContain('dport=80');
    expect(await ct.deleteEntries(stale)).toBe(0);
    const v6 = await ct.listEntries('ipv6');
    expect(await ct.deleteEntries(v6)).toBe(1);
    expect((await ns.exec('conntrack', ['-L', '-f', 'ipv6'])).stdout).not.toContain('fd00');
  });
});
