import { EventEmitter } from 'node:events';
import type { RtNetlinkSocket } from 'netlink';
import { describe, expect, it } from 'vitest';
import { rtnetlinkLinkLayer } from '../src/ipvs/rtnetlink-link-layer';

/**
 * A socket that behaves as the kernel does with dumps: one at a time per socket, a second one
 * while the first runs fails with EBUSY. Each call takes a few event-loop turns, so calls that
 * are not serialized overlap.
 */
function oneDumpAtATimeSocket() {
  let dumping = false;
  let maxConcurrent = 0;
  let active = 0;
  const turns = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));
  const op = async <T>(dump: boolean, result: T): Promise<T> => {
    active++;
    maxConcurrent = Math.max(maxConcurrent, active);
    try {
      if (dump) {
        if (dumping) throw Object.assign(new Error('Request rejected: EBUSY'), { code: 'EBUSY' });
        dumping = true;
      }
      await turns();
      return result;
    } finally {
      if (dump) dumping = false;
      active--;
    }
  };
  const socket = {
    getLink: async (_data: unknown, attrs: { ifname: string }) => {
      if (attrs.ifname !== 'kube-ipvs0')
        throw Object.assign(new Error('Request rejected: ENODEV'), { code: 'ENODEV' });
      return op(false, [{ data: { index: 7 }, attrs: { ifname: 'kube-ipvs0' } }]);
    },
    newAddress: () => op(false, undefined),
    delAddress: () => op(false, undefined),
    newLink: () => op(false, undefined),
    delLink: () => op(false, undefined),
    // The address dumps go through the raw socket (see address-dump.ts).
    socket: { close() {}, request: () => op(true, [[], {}]) },
  };
  return { socket: socket as unknown as RtNetlinkSocket, maxConcurrent: () => maxConcurrent };
}

describe('rtnetlinkLinkLayer', () => {
  it('runs one operation at a time on its socket, so the IPv4 and IPv6 syncs never overlap dumps', async () => {
    const fake = oneDumpAtATimeSocket();
    const layer = rtnetlinkLinkLayer(fake.socket);
    const calls = [
      layer.addAddresses('kube-ipvs0', ['10.96.0.1']),
      layer.addAddresses('kube-ipvs0', ['fd00::1']),
      layer.listAddresses('kube-ipvs0'),
      layer.localAddresses('IPv4', 'kube-ipvs0'),
      layer.localAddresses('IPv6', 'kube-ipvs0'),
      layer.deleteAddresses('kube-ipvs0', ['10.96.0.2']),
    ];
    await expect(Promise.all(calls)).resolves.toHaveLength(6);
    expect(fake.maxConcurrent()).toBe(1);
  });

  it('goes on with the next operation after one fails', async () => {
    const fake = oneDumpAtATimeSocket();
    const layer = rtnetlinkLinkLayer(fake.socket);
    const failing = layer.addAddresses('no-such-link', ['10.96.0.1']);
    const next = layer.linkExists('kube-ipvs0');
    await expect(failing).rejects.toMatchObject({ code: 'LINK_NOT_FOUND' });
    await expect(next).resolves.toBe(true);
  });

  it('creates kube-ipvs0 with IFLA_LINKINFO holding IFLA_INFO_KIND "dummy"', async () => {
    const created: unknown[] = [];
    const socket = {
      getLink: async () => {
        throw Object.assign(new Error('Request rejected: ENODEV'), { code: 'ENODEV' });
      },
      newLink: async (_data: unknown, attrs: unknown) => {
        created.push(attrs);
      },
      socket: { close() {} },
    };
    await rtnetlinkLinkLayer(socket as unknown as RtNetlinkSocket).ensureDummy('kube-ipvs0');
    expect(created).toHaveLength(1);
    const { ifname, linkinfo } = created[0] as { ifname: string; linkinfo: Buffer };
    expect(ifname).toBe('kube-ipvs0');
    // Length 10 (header and "dummy\0"), type 1, two bytes of padding.
    expect(Buffer.from(linkinfo).toString('hex')).toBe('0a000100' + '64756d6d7900' + '0000');
  });

  it('dumps the node addresses again only after a notification about another interface', async () => {
    let dumps = 0;
    const socket = {
      getLink: async () => [{ data: { index: 7 }, attrs: { ifname: 'kube-ipvs0' } }],
      socket: {
        close() {},
        request: async () => {
          dumps++;
          return [[], {}];
        },
      },
    };
    const notifications = Object.assign(new EventEmitter(), { addMembership() {}, close() {} });
    const layer = rtnetlinkLinkLayer(socket as unknown as RtNetlinkSocket, notifications as never);
    // RTM_NEWADDR / RTM_DELADDR: struct ifaddrmsg's family (byte 0) and interface index (bytes 4-7).
    const notify = (type: number, family: number, index: number) => {
      const data = Buffer.alloc(8);
      data.writeUInt8(family, 0);
      data.writeUInt32LE(index, 4);
      notifications.emit('message', [{ type, data }]);
    };
    await layer.localAddresses('IPv4', 'kube-ipvs0');
    await layer.localAddresses('IPv4', 'kube-ipvs0');
    expect(dumps).toBe(1);
    // Our own Service IP on kube-ipvs0 (index 7), and an IPv6 change: IPv4's answer stands.
    notify(20, 2, 7);
    notify(20, 10, 3);
    await layer.localAddresses('IPv4', 'kube-ipvs0');
    expect(dumps).toBe(1);
    await layer.localAddresses('IPv6', 'kube-ipvs0');
    expect(dumps).toBe(2);
    // An address added to (or removed from) eth0: the next lookup dumps.
    notify(21, 2, 2);
    await layer.localAddresses('IPv4', 'kube-ipvs0');
    expect(dumps).toBe(3);
    // Lost notifications (the socket reports ENOBUFS): both families dump again.
    notifications.emit('error', Object.assign(new Error('recvmsg ENOBUFS'), { code: 'ENOBUFS' }));
    await layer.localAddresses('IPv4', 'kube-ipvs0');
    await layer.localAddresses('IPv6', 'kube-ipvs0');
    expect(dumps).toBe(5);
  });
});
