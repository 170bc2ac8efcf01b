import { describe, expect, it } from 'vitest';
import { normalizeDestinationKey, normalizeServiceKey, normalizeServiceSpec } from '../src/index';
import {
  constants,
  decodeFamilyReply,
  decodeInfoReply,
  decodeServiceReply,
  decodeTimeoutsReply,
  getFamilyRequest,
  NetlinkAttributeWriter,
  requests,
  serviceFlagBits,
} from '../src/netlink/index';

/** Hex with whitespace/comments stripped, so golden messages can be laid out field by field. */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}

describe('request golden bytes (genl header + attributes)', () => {
  it('NEW_SERVICE TCP 10.0.0.1:80 rr', () => {
    const spec = normalizeServiceSpec(
      { protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' },
      serviceFlagBits,
    );
    const req = requests.newService(spec);
    expect(req.cmd).toBe(1);
    expect(req.flags).toBe(0);
    expect(req.payload.toString('hex')).toBe(
      hex(`
        01 01 0000                      # cmd NEW_SERVICE, version 1
        5400 0180                       # SERVICE, nested, 84 bytes
          0600 0100 0200 0000           # AF = AF_INET (u16) + pad
          0600 0200 0600 0000           # PROTOCOL = TCP
          1400 0300 0a000001 000000000000000000000000   # ADDR (nf_inet_addr, 16 bytes)
          0600 0400 0050 0000           # PORT = 80, big-endian
          0700 0600 727200 00           # SCHED_NAME "rr\\0"
          0c00 0700 00000000 ffffffff   # FLAGS {flags 0, mask ~0}
          0800 0800 00000000            # TIMEOUT 0
          0800 0900 ffffffff            # NETMASK /32, big-endian mask
      `).toString('hex'),
    );
  });

  it('NEW_SERVICE UDP [fd00::1]:53 persistent, netmask as a prefix for IPv6', () => {
    const spec = normalizeServiceSpec(
      {
        protocol: 'udp',
        address: 'fd00::1',
        port: 53,
        scheduler: 'wrr',
        flags: { persistent: true, onePacket: true },
        timeout: 60,
        netmask: 64,
      },
      serviceFlagBits,
    );
    expect(requests.newService(spec).payload.toString('hex')).toBe(
      hex(`
        01 01 0000
        5400 0180
          0600 0100 0a00 0000           # AF_INET6
          0600 0200 1100 0000           # UDP
          1400 0300 fd000000000000000000000000000001
          0600 0400 0035 0000           # port 53
          0800 0600 77727200            # "wrr\\0"
          0c00 0700 05000000 ffffffff   # PERSISTENT | ONEPACKET
          0800 0800 3c000000            # 60 s
          0800 0900 40000000            # prefix 64, host-order u32
      `).toString('hex'),
    );
  });

  it('DEL_DEST of [fd00::2]:0 from fwmark service 7 (IPv6)', () => {
    const key = normalizeServiceKey({ fwmark: 7, family: 'ipv6' });
    const req = requests.delDest(key, normalizeDestinationKey({ address: 'fd00::2', port: 0 }));
    expect(req.payload.toString('hex')).toBe(
      hex(`
        07 01 0000
        1400 0180
          0600 0100 0a00 0000
          0800 0500 07000000            # FWMARK 7
        2800 0280                       # DEST, nested
          1400 0100 fd000000000000000000000000000002
          0600 0b00 0a00 0000           # ADDR_FAMILY
          0600 0200 0000 0000           # PORT 0
      `).toString('hex'),
    );
  });

  it('GET_SERVICE dump carries only the header and the DUMP flag', () => {
    const req = requests.dumpServices();
    expect(req.flags).toBe(constants.NlmFlag.DUMP);
    expect(req.payload.toString('hex')).toBe('04010000');
  });

  it('SET_CONFIG timeouts', () => {
    expect(requests.setConfig({ tcp: 900, tcpFin: 120, udp: 300 }).payload.toString('hex')).toBe(
      hex('0c010000 08000400 84030000 08000500 78000000 08000600 2c010000').toString('hex'),
    );
  });

  it('CTRL_CMD_GETFAMILY "IPVS"', () => {
    expect(getFamilyRequest('IPVS').payload.toString('hex')).toBe(
      hex('03010000 0900 0200 4950565300 000000').toString('hex'),
    );
  });
});

describe('reply golden bytes', () => {
  it('decodes a service as the kernel sends it (no NESTED flag, STATS and STATS64)', () => {
    const reply = hex(`
      04 01 0000
      9000 0100                         # SERVICE (kernel uses nla_nest_start_noflag)
        0600 0100 0a00 0000
        0600 0200 8400 0000             # SCTP
        1400 0300 20010db8000000000000000000000010
        0600 0400 1f90 0000             # 8080
        0700 0600 736800 00             # "sh"
        0c00 0700 1a000000 ffffffff     # HASHED|SCHED1|SCHED2
        0800 0800 00000000
        0800 0900 80000000              # /128
        1400 0a00                       # STATS (32-bit), ignored when STATS64 is present
          0800 0100 01000000
          0800 0200 02000000
        2800 0c00                       # STATS64
          0c00 0100 0100000000010000    # conns 2^40 + 1
          0c00 0400 ffffffffffffffff    # inbytes 2^64 - 1
          0c00 0a00 0700000000000000    # outbps 7
    `);
    const svc = decodeServiceReply(reply);
    expect(svc).toMatchObject({
      family: 'ipv6',
      protocol: 'sctp',
      address: '2001:db8::10',
      port: 8080,
      scheduler: 'sh',
      flagBits: 0x1a,
      flags: { persistent: false, hashed: true, onePacket: false, shFallback: true, shPort: true },
      timeout: 0,
      netmask: 128,
    });
    expect(svc.stats).toEqual({
      connections: 2n ** 40n + 1n,
      packetsIn: 0n,
      packetsOut: 0n,
      bytesIn: 2n ** 64n - 1n,
      bytesOut: 0n,
      cps: 0n,
      ppsIn: 0n,
      ppsOut: 0n,
      bpsIn: 0n,
      bpsOut: 7n,
    });
  });

  it('decodes info, timeouts and the family lookup', () => {
    expect(decodeInfoReply(hex('0e010000 08000100 01020100 08000200 00100000'))).toEqual({
      version: '1.2.1',
      versionCode: 0x010201,
      connectionTableSize: 4096,
    });
    expect(
      decodeTimeoutsReply(hex('0d010000 08000400 84030000 08000500 78000000 08000600 2c010000')),
    ).toEqual({
      tcp: 900,
      tcpFin: 120,
      udp: 300,
    });
    expect(
      decodeFamilyReply(hex('01020000 0600 0100 2000 0000 0900 0200 4950565300 000000 0800 0300 01000000')),
    ).toEqual({
      id: 32,
      version: 1,
    });
  });

  it('rejects an attribute whose length overruns the buffer', () => {
    const bad = new NetlinkAttributeWriter().u32(1, 5).toBuffer();
    bad.writeUInt16LE(40, 0);
    expect(() => decodeInfoReply(Buffer.concat([hex('0e010000'), bad]))).toThrow(/overruns/);
  });
});
