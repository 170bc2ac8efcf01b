import { EventEmitter } from 'node:events';
import type { RestoreStreamOptions } from '@nodeagent/netfilter';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import type { NetlinkSocket } from 'netlink';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KubeProxyMetrics, snapshotFromObjects } from '../src/index';
import {
  type IptablesBackendOptions,
  IptablesProxier,
  iptablesExecutor,
  renderIptablesRuleset,
} from '../src/iptables/index';
import {
  CT_STATE_INVALID_DROPPED_COUNTER,
  KUBE_PROXY_NFACCT_COUNTERS,
  LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
  type NfacctClient,
  NfacctError,
  registerNfacctMetrics,
} from '../src/runtime/index';
import { decodeNfacctCounter, encodeNfacctRequest, netlinkNfacct } from '../src/runtime/nfacct';
import { service, slice } from './fixtures';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A NodePort Service with one endpoint, as a snapshot. */
function nodePortSnapshot(family: 'IPv4' | 'IPv6' = 'IPv4') {
  const v6 = family === 'IPv6';
  return snapshotFromObjects({
    family,
    nodeName: 'n1',
    services: [
      service('np', {
        type: 'NodePort',
        clusterIP: v6 ? 'fd00::10' : '10.96.0.10',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
    ],
    endpointSlices: [
      slice('np', [{ ip: v6 ? 'fd00:1::5' : '10.244.1.5', node: 'n2' }], { addressType: family }),
    ],
  });
}

function payload(options: IptablesBackendOptions, family: 'IPv4' | 'IPv6' = 'IPv4'): string {
  return renderIptablesRuleset(nodePortSnapshot(family), options).payload;
}

describe('nfacct netlink messages', () => {
  it('encodes nfgenmsg and a NUL-terminated, padded NFACCT_NAME', () => {
    const b = encodeNfacctRequest('ct_state_invalid_dropped_pkts');
    // 4 bytes nfgenmsg, 4 attribute header, 30 name bytes with NUL, padded to 32.
    expect(b.length).toBe(4 + 4 + 32);
    expect([...b.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect(b.readUInt16LE(4)).toBe(4 + 30);
    expect(b.readUInt16LE(6)).toBe(1);
    expect(b.subarray(8, 8 + 30).toString()).toBe('ct_state_invalid_dropped_pkts\0');
    // Every byte, as the hand-written encoder sent them before it moved onto the shared writer.
    expect(b.toString('hex')).toBe(
      `00000000 2200 0100 ${Buffer.from('ct_state_invalid_dropped_pkts').toString('hex')} 000000`.replace(
        / /g,
        '',
      ),
    );
  });

  it('decodes a counter reply: name, big-endian packets and bytes', () => {
    const attr = (type: number, value: Buffer) => {
      const len = 4 + value.length;
      const a = Buffer.alloc((len + 3) & ~3);
      a.writeUInt16LE(len, 0);
      a.writeUInt16LE(type, 2);
      value.copy(a, 4);
      return a;
    };
    const u64 = (n: bigint) => {
      const v = Buffer.alloc(8);
      v.writeBigUInt64BE(n);
      return v;
    };
    const reply = Buffer.concat([
      Buffer.from([0, 0, 0, 0]),
      attr(1, Buffer.from('localhost_nps_accepted_pkts\0')),
      attr(2, u64(7n)),
      attr(3, u64(420n)),
    ]);
    expect(decodeNfacctCounter(reply)).toEqual({
      name: 'localhost_nps_accepted_pkts',
      packets: 7n,
      bytes: 420n,
    });
    expect(decodeNfacctCounter(Buffer.from([0, 0, 0, 0]))).toBeUndefined();
  });

  it('skips unknown attributes, ignores counts shorter than 8 bytes, and stops at a truncated attribute', () => {
    const name = Buffer.from('ct_state_invalid_dropped_pkts\0\0\0');
    const reply = Buffer.concat([
      Buffer.from([0, 0, 0, 0]),
      // NFACCT_USE (4, unknown here) before the name, with NLA_F_NET_BYTEORDER set on the name.
      Buffer.from([8, 0, 4, 0, 0, 0, 0, 1]),
      Buffer.from([4 + 30, 0, 1, 0x40]),
      name,
      // NFACCT_PKTS of 4 bytes: too short for a u64, so packets stay 0.
      Buffer.from([8, 0, 2, 0, 0, 0, 0, 9]),
      Buffer.from([12, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
      // Claims 12 bytes where 8 are left: decoding stops here, keeping what came before.
      Buffer.from([12, 0, 2, 0, 0, 0, 0, 0]),
    ]);
    expect(decodeNfacctCounter(reply)).toEqual({
      name: 'ct_state_invalid_dropped_pkts',
      packets: 0n,
      bytes: 256n,
    });
    // A truncated attribute before the name: no counter.
    expect(decodeNfacctCounter(Buffer.from([0, 0, 0, 0, 40, 0, 1, 0, 0x61, 0]))).toBeUndefined();
  });
});

/**
 * A NETLINK_NETFILTER socket that answers each request with an NLMSG_ERROR (struct nlmsgerr:
 * negative errno, then the request's header) carrying the next errno of `errnos`, in a body of `bodyLength` bytes (20: a well-formed one).
 */
function nlmsgerrSocket(errnos: number[], bodyLength = 20) {
  const socket = new EventEmitter() as EventEmitter & Record<string, unknown>;
  const sent: { type: number; flags: number }[] = [];
  let seq = 0;
  Object.assign(socket, {
    ref() {},
    close() {},
    generateSeq: () => ++seq,
    send(type: number, _data: Buffer, header: { flags: number; seq: number }, done: (err?: Error) => void) {
      sent.push({ type, flags: header.flags });
      const nlmsgerr = Buffer.alloc(20);
      nlmsgerr.writeInt32LE(-(errnos.shift() ?? 0), 0);
      const data = nlmsgerr.subarray(0, bodyLength);
      done();
      setImmediate(() => socket.emit('message', [{ type: 2, flags: 0, seq: header.seq, port: 0, data }]));
    },
  });
  return { socket: socket as unknown as NetlinkSocket, sent };
}

describe('netlinkNfacct and the NLMSG_ERROR replies', () => {
  it('ENOENT on get is no counter; EBUSY on create is success; another errno is an NfacctError naming it', async () => {
    const { socket, sent } = nlmsgerrSocket([2, 2, 16, 1]);
    const nfacct = netlinkNfacct(socket);
    expect(await nfacct.get('a')).toBeUndefined();
    await nfacct.ensure('a');
    // NFNL_SUBSYS_ACCT (7) << 8 | GET (1), then | NEW (0) with NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE.
    expect(sent).toEqual([
      { type: 0x701, flags: 0x5 },
      { type: 0x701, flags: 0x5 },
      { type: 0x700, flags: 0x405 },
    ]);
    const refused = await nfacct.get('b').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(NfacctError);
    expect((refused as Error).message).toBe('nfacct get b: EPERM');
  });

  it('an NLMSG_ERROR too short for struct nlmsgerr fails that request with a NetlinkFormatError', async () => {
    const nfacct = netlinkNfacct(nlmsgerrSocket([0], 8).socket);
    await expect(nfacct.get('a')).rejects.toMatchObject({
      code: 'NETLINK_FORMAT',
      field: 'NLMSG_ERROR',
      value: 8,
    });
  });
});

describe('iptables rules for KUBE-FIREWALL and the nfacct counters', () => {
  const counters = { nfacctCounters: KUBE_PROXY_NFACCT_COUNTERS };

  it('with localhost NodePorts and both counters: the localnet DROP, counted twins, counted INVALID drop', () => {
    const p = payload(counters);
    expect(p).toContain(':KUBE-FIREWALL - [0:0]');
    expect(p).toContain(
      '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    );
    const nodePorts = p.split('\n').filter((l) => l.startsWith('-A KUBE-NODEPORTS'));
    expect(nodePorts[0]).toMatch(
      /^-A KUBE-NODEPORTS -d 127\.0\.0\.0\/8 -p tcp -m comment --comment default\/np:http -m tcp --dport 30080 -m nfacct --nfacct-name localhost_nps_accepted_pkts -j KUBE-EXT-/,
    );
    expect(nodePorts).toHaveLength(2);
    expect(p).toContain(
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
    );
  });

  it('without counters (no nfacct in the kernel) the same rules go without -m nfacct', () => {
    const p = payload({});
    expect(p).toContain(':KUBE-FIREWALL - [0:0]');
    expect(p).not.toContain('nfacct');
    expect(p).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
    expect(p.split('\n').filter((l) => l.startsWith('-A KUBE-NODEPORTS'))).toHaveLength(1);
  });

  it('only the counter that exists is used', () => {
    const p = payload({ nfacctCounters: [CT_STATE_INVALID_DROPPED_COUNTER] });
    expect(p).toContain(`--nfacct-name ${CT_STATE_INVALID_DROPPED_COUNTER}`);
    expect(p).not.toContain(LOCALHOST_NODEPORTS_ACCEPTED_COUNTER);
  });

  it('no KUBE-FIREWALL rule and no localhost twins without localhost NodePorts: off, nodePortAddresses without loopback, IPv6', () => {
    for (const [options, family] of [
      [{ ...counters, localhostNodePorts: false }, 'IPv4'],
      [{ ...counters, nodePortIPs: ['10.77.0.1'] }, 'IPv4'],
      [counters, 'IPv6'],
    ] as const) {
      const p = payload(options, family);
      expect(p, JSON.stringify(options)).not.toContain('KUBE-FIREWALL');
      expect(p).not.toContain(LOCALHOST_NODEPORTS_ACCEPTED_COUNTER);
    }
    // With loopback among the NodePort addresses they are on.
    expect(payload({ ...counters, nodePortIPs: ['10.77.0.1', '127.0.0.1'] })).toContain('-A KUBE-FIREWALL');
  });
});

/** An in-memory nfacct: counters by name; `refuse` makes ensure fail for those names. */
function fakeNfacct(refuse: string[] = []): NfacctClient & { counters: Map<string, bigint> } {
  const counters = new Map<string, bigint>();
  return {
    counters,
    async ensure(name) {
      if (refuse.includes(name)) throw new NfacctError('ensure', name, 'EPERM');
      if (!counters.has(name)) counters.set(name, 0n);
    },
    async get(name) {
      const packets = counters.get(name);
      return packets === undefined ? undefined : { name, packets, bytes: packets * 60n };
    },
    close() {},
  };
}

describe('IptablesProxier with an nfacct client', () => {
  it('ensures the counters on a full sync, renders rules for those that exist, and publishes them at scrape time', async () => {
    const ipt = new FakeIptables();
    const nfacct = fakeNfacct([CT_STATE_INVALID_DROPPED_COUNTER]);
    const metrics = new KubeProxyMetrics();
    const proxier = new IptablesProxier({
      family: 'IPv4',
      nodeName: 'n1',
      executor: iptablesExecutor(ipt),
      nfacct,
      metrics,
      logger: silent,
      minSyncPeriodMs: 0,
      syncPeriodMs: 60_000,
    });
    proxier.onServiceAdd(
      service('np', {
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }],
      }),
    );
    proxier.onEndpointSliceAdd(slice('np', [{ ip: '10.244.1.5', node: 'n2' }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await proxier.syncProxyRules();
    expect([...nfacct.counters.keys()]).toEqual([LOCALHOST_NODEPORTS_ACCEPTED_COUNTER]);
    expect(proxier.lastPayload).toContain(`--nfacct-name ${LOCALHOST_NODEPORTS_ACCEPTED_COUNTER}`);
    expect(proxier.lastPayload).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');

    nfacct.counters.set(LOCALHOST_NODEPORTS_ACCEPTED_COUNTER, 5n);
    const text = await metrics.registry.metrics();
    expect(text).toContain('# TYPE kubeproxy_iptables_localhost_nodeports_accepted_packets_total counter');
    expect(text).toMatch(/^kubeproxy_iptables_localhost_nodeports_accepted_packets_total 5$/m);
    // The refused counter: described, no sample.
    expect(text).toContain(
      '# HELP kubeproxy_iptables_ct_state_invalid_dropped_packets_total [ALPHA] packets dropped by iptables to work around conntrack problems\n',
    );
    expect(text).not.toMatch(/^kubeproxy_iptables_ct_state_invalid_dropped_packets_total /m);
    await proxier.stop();
  });

  it('where iptables refuses the nfacct match, the retry writes the rules without it', async () => {
    /** Counters can be created, but every payload using `-m nfacct` fails, as without xt_nfacct. */
    class NoNfacctMatch extends FakeIptables {
      private refuse(payload: string): void {
        if (!payload.includes('-m nfacct')) return;
        this.restores.push(payload);
        throw new Error("iptables-restore: Couldn't load match `nfacct':No such file or directory");
      }
      override async restore(...args: Parameters<FakeIptables['restore']>) {
        if (typeof args[0] === 'string') this.refuse(args[0]);
        return super.restore(...args);
      }
      override async restoreStream(chunks: AsyncIterable<string>, options: RestoreStreamOptions = {}) {
        const read: string[] = [];
        for await (const c of chunks) read.push(c);
        this.refuse(read.join('') + (options.unwidenedTail?.() ?? ''));
        return super.restoreStream(replay(read), options);
      }
    }
    const ipt = new NoNfacctMatch();
    const proxier = new IptablesProxier({
      family: 'IPv4',
      nodeName: 'n1',
      executor: iptablesExecutor(ipt),
      nfacct: fakeNfacct(),
      logger: silent,
      minSyncPeriodMs: 0,
      syncPeriodMs: 60_000,
    });
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'full', ok: false });
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });
    expect(proxier.lastPayload).not.toContain('nfacct');
    expect(proxier.lastPayload).toContain('-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP');
    await proxier.stop();
  });

  it('registering the metrics twice on one registry (two families) keeps one of each', () => {
    const registry = new Registry();
    const nfacct = fakeNfacct();
    registerNfacctMetrics(registry, nfacct, silent);
    registerNfacctMetrics(registry, nfacct, silent);
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual([
      'kubeproxy_iptables_ct_state_invalid_dropped_packets_total',
      'kubeproxy_iptables_localhost_nodeports_accepted_packets_total',
    ]);
  });
});

async function* replay(chunks: readonly string[]): AsyncGenerator<string> {
  yield* chunks;
}
