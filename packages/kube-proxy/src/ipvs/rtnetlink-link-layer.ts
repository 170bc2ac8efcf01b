import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { createRtNetlink, FlagsNew, type RtNetlinkSocket } from 'netlink';
import { KubeProxyError } from '../errors';
import type { IPFamily } from '../model/ip-family';
import type { LinkLayer } from './ipvs-kernel';

const AF_INET = 2;
const AF_INET6 = 10;
/** IFLA_INFO_KIND inside IFLA_LINKINFO. */
const IFLA_INFO_KIND = 1;
/** RT_SCOPE_UNIVERSE: what `ip addr add … dev kube-ipvs0` gives a service address. */
const RT_SCOPE_UNIVERSE = 0;

/** IFLA_LINKINFO's nested IFLA_INFO_KIND = "dummy" (a netlink attribute, padded to 4 bytes). */
function dummyLinkInfo(): Buffer {
  const kind = Buffer.from('dummy\0');
  const len = 4 + kind.length;
  const attr = Buffer.alloc((len + 3) & ~3);
  attr.writeUInt16LE(len, 0);
  attr.writeUInt16LE(IFLA_INFO_KIND, 2);
  kind.copy(attr, 4);
  return attr;
}

function addressBytes(ip: string): Buffer {
  return Buffer.from(ipaddr.parse(ip).toByteArray());
}

function addressText(b: Buffer): string {
  return ipaddr.fromByteArray([...b]).toString();
}

/** The errno name of a rejected netlink request ("Request rejected: EEXIST"). */
function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && e.code.startsWith('E')) return e.code;
  const m = typeof e?.message === 'string' ? /\b(E[A-Z]+)\b/.exec(e.message) : null;
  return m?.[1];
}

/**
 * LinkLayer over rtnetlink through the `netlink` package: the kube-ipvs0 dummy link and its
 * /32 and /128 service addresses, without an `ip` process per change. Works in the network
 * namespace of the calling process (tests run it inside one through `ip netns exec`).
 */
export function rtnetlinkLinkLayer(
  socket: RtNetlinkSocket = createRtNetlink(),
): LinkLayer & { close(): void } {
  // One operation on the socket at a time. The IPv4 and IPv6 proxiers share this layer and sync
  // concurrently, but the kernel runs one dump per netlink socket (a second gets EBUSY) and the
  // netlink package cannot tell two interleaved multipart replies apart ("Multipart message not
  // terminated properly"), so overlapping calls failed syncs until the two drifted apart.
  let tail: Promise<unknown> = Promise.resolve();
  const serially = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => {
    return (...args: A): Promise<T> => {
      const run = tail.then(
        () => fn(...args),
        () => fn(...args),
      );
      tail = run.catch(() => undefined);
      return run;
    };
  };
  const linkIndex = async (name: string): Promise<number | undefined> => {
    const links = await socket.getLinks();
    return links.find((l) => l.attrs.ifname === name)?.data.index;
  };
  const addressesOf = async (index: number | undefined) =>
    (await socket.getAddresses()).filter((a) => index === undefined || a.data.index === index);
  const change = async (name: string, addresses: readonly string[], add: boolean) => {
    const index = await linkIndex(name);
    if (index === undefined) {
      if (add) throw new KubeProxyError('LINK_NOT_FOUND', `rtnetlink: no link named ${name}`);
      return;
    }
    for (const ip of addresses) {
      const v6 = isIP(ip) === 6;
      const data = {
        family: v6 ? AF_INET6 : AF_INET,
        prefixlen: v6 ? 128 : 32,
        scope: RT_SCOPE_UNIVERSE,
        index,
        flags: { permanent: true as const },
      };
      const attrs = { local: addressBytes(ip), address: addressBytes(ip) };
      try {
        if (add) await socket.newAddress(data, attrs, { flags: FlagsNew.CREATE | FlagsNew.REPLACE });
        else await socket.delAddress(data, attrs);
      } catch (err) {
        const errno = errnoOf(err);
        if (add && errno === 'EEXIST') continue;
        if (!add && (errno === 'EADDRNOTAVAIL' || errno === 'ENODEV')) continue;
        throw new KubeProxyError(
          'RTNETLINK_FAILED',
          `rtnetlink: ${add ? 'add' : 'delete'} address ${ip} on ${name}: ${(err as Error).message}`,
        );
      }
    }
  };
  return {
    ensureDummy: serially(async (name: string) => {
      if ((await linkIndex(name)) !== undefined) return;
      try {
        await socket.newLink(
          {},
          { ifname: name, linkinfo: dummyLinkInfo() },
          { flags: FlagsNew.CREATE | FlagsNew.EXCL },
        );
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
    }),
    linkExists: serially(async (name: string) => (await linkIndex(name)) !== undefined),
    deleteLink: serially(async (name: string) => {
      const index = await linkIndex(name);
      if (index !== undefined) await socket.delLink({ index });
    }),
    listAddresses: serially(async (name: string) => {
      const index = await linkIndex(name);
      if (index === undefined) return [];
      return (await addressesOf(index)).flatMap((a) =>
        a.attrs.address ? [addressText(a.attrs.local ?? a.attrs.address)] : [],
      );
    }),
    addAddresses: serially((name: string, addresses: readonly string[]) => change(name, addresses, true)),
    deleteAddresses: serially((name: string, addresses: readonly string[]) => change(name, addresses, false)),
    localAddresses: serially(async (family: IPFamily, exceptLink: string) => {
      const except = await linkIndex(exceptLink);
      const seen = new Set<string>();
      for (const a of await addressesOf(undefined)) {
        if (a.data.index === except || !a.attrs.address) continue;
        if ((a.data.family === AF_INET6) !== (family === 'IPv6')) continue;
        const ip = addressText(a.attrs.local ?? a.attrs.address);
        if (ip.startsWith('127.') || ip === '::1' || /^fe[89ab]/i.test(ip)) continue;
        seen.add(ip);
      }
      return [...seen];
    }),
    close() {
      socket.socket.close();
    },
  };
}
