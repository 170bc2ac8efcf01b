import { NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpFamily } from '../../src/iptables/model';
import { IptablesNftNetlinkWriter, IptablesNftUnsupportedError } from '../../src/iptables/nft-wire/index';
import { parseSave } from '../../src/iptables/parse-save';
import { NftKernelError } from '../../src/nftables/netlink/errors';
import { NetnsChannel } from '../../src/nftables/netlink/netns-channel';
import { NfnetlinkSession } from '../../src/nftables/netlink/session';
import { IPV4_FIRST, IPV4_SECOND, IPV6_FIRST } from '../fixtures/iptables-nft-wire-shapes';
import { dumpFamily, saveText } from './iptables-nft-wire-dump';

// The netlink writer of iptables-nft objects against iptables-nft-restore itself (issue #54):
// one namespace gets each payload from the tool (--noflush, as kube-proxy runs it), another from
// the writer (from the text as it is read, as full syncs go, or through the model); the kernel must then hold the same tables, chains and rules, attribute for
// attribute (handles aside), and iptables-save must print the same text for both.

const scope = new NetnsScope('ipt-nftwire');

interface Side {
  ns: Awaited<ReturnType<NetnsScope['create']>>;
  channel: NetnsChannel;
  session: NfnetlinkSession;
}

async function side(): Promise<Side> {
  const ns = await scope.create();
  const channel = await NetnsChannel.open(ns.path);
  return { ns, channel, session: new NfnetlinkSession(channel) };
}

const NFPROTO: Record<IpFamily, number> = { ipv4: 2, ipv6: 10 };
const tool = (family: IpFamily) => (family === 'ipv6' ? 'ip6tables-nft' : 'iptables-nft');

describe('iptables-nft objects over netlink, against iptables-nft-restore (in namespaces)', {
  timeout: 120_000,
}, () => {
  let byTool: Side;
  let byWriter: Side;
  let writer: IptablesNftNetlinkWriter;

  beforeAll(async () => {
    byTool = await side();
    byWriter = await side();
    // Its own socket: a channel delivers each reply to one session.
    writer = new IptablesNftNetlinkWriter(await NetnsChannel.open(byWriter.ns.path));
  });

  afterAll(async () => {
    byTool?.channel.close();
    byWriter?.channel.close();
    writer?.close();
    await scope.cleanup();
  });

  /**
   * The payload by the tool and by the writer: from the text as it is read (the full-sync path),
   * or through the model (`via: 'model'`, parseSave first).
   */
  async function applyBoth(payload: string, family: IpFamily, via: 'text' | 'model' = 'text') {
    await byTool.ns.exec(`${tool(family)}-restore`, ['--noflush'], { input: payload });
    return via === 'model' ? writer.write(parseSave(payload, family)) : writer.writeText([payload], family);
  }

  async function expectSameKernelObjects(family: IpFamily) {
    const expected = await dumpFamily(byTool.session, NFPROTO[family]);
    const actual = await dumpFamily(byWriter.session, NFPROTO[family]);
    expect(actual.length).toBeGreaterThan(0);
    // Line by line first: a mismatch then names the one object that differs.
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) expect(actual[i]).toBe(expected[i]);
    const save = async (s: Side) => saveText((await s.ns.exec(`${tool(family)}-save`)).stdout);
    expect(await save(byWriter)).toBe(await save(byTool));
  }

  it('IPv4 first sync: every kube-proxy rule shape is written as iptables-nft-restore writes it', async () => {
    const stats = await applyBoth(IPV4_FIRST, 'ipv4');
    expect(stats).toMatchObject({ tables: 2, chains: 20, rules: 51 });
    await expectSameKernelObjects('ipv4');
  });

  it('IPv4 second sync: declared chains are flushed and refilled, -X deletes, built-ins keep their rules', async () => {
    await applyBoth(IPV4_SECOND, 'ipv4', 'model');
    await expectSameKernelObjects('ipv4');
    const saved = (await byWriter.ns.exec('iptables-nft-save', ['-t', 'nat'])).stdout;
    expect(saved).not.toContain('KUBE-SEP-OLD');
    expect(saved).toContain(
      '-A KUBE-SEP-NEW -p tcp -m comment --comment "ns1/svc1:p80" -m tcp -j DNAT --to-destination 10.180.0.9:80',
    );
  });

  it('IPv6: addresses, prefixes, DNAT to [address]:port, MASQUERADE and REJECT', async () => {
    await applyBoth(IPV6_FIRST, 'ipv6');
    await expectSameKernelObjects('ipv6');
  });

  it('a shape it cannot reproduce is refused before anything is sent', async () => {
    const before = await dumpFamily(byWriter.session, 2);
    const payload = `*nat\n:KUBE-SVC-R - [0:0]\n-A KUBE-SVC-R -m recent --name KUBE-SEP-R --rcheck --seconds 10800 --reap -j RETURN\nCOMMIT\n`;
    const refused = await writer.write(parseSave(payload, 'ipv4')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IptablesNftUnsupportedError);
    expect((refused as IptablesNftUnsupportedError).field).toBe('nat/KUBE-SVC-R rule 1');
    expect((refused as Error).message).toContain('match recent');
    expect(await dumpFamily(byWriter.session, 2)).toEqual(before);
  });

  it('a batch the kernel refuses changes nothing, and the error names the operation', async () => {
    const before = await dumpFamily(byWriter.session, 2);
    const payload = `*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-NOWHERE\nCOMMIT\n`;
    const refused = await writer.write(parseSave(payload, 'ipv4')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NftKernelError);
    expect((refused as NftKernelError).operation).toBe('add rule ip nat KUBE-SERVICES (rule 1)');
    expect((refused as NftKernelError).errnoName).toBe('ENOENT');
    expect(await dumpFamily(byWriter.session, 2)).toEqual(before);
  });

  it('a refused rule of a chain whose rules the text interleaves with another chain is numbered in its chain', async () => {
    const before = await dumpFamily(byWriter.session, 2);
    const payload = `*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-OTHER - [0:0]\n-A KUBE-SERVICES -j RETURN\n-A KUBE-OTHER -j RETURN\n-A KUBE-SERVICES -j KUBE-NOWHERE\nCOMMIT\n`;
    const refused = await writer.writeText([payload], 'ipv4').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NftKernelError);
    expect((refused as NftKernelError).operation).toBe('add rule ip nat KUBE-SERVICES (rule 2)');
    expect(await dumpFamily(byWriter.session, 2)).toEqual(before);
  });
});
