import { isIP } from 'node:net';
import { loadNetlinkAddon } from '@nodeagent/ipvs/netlink';
import {
  NetlinkAttributeWriter,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
} from '@nodeagent/primitives/netlink';
import ipaddr from 'ipaddr.js';
import type { RtNetlinkSocket } from 'netlink';
import { KubeProxyError } from '../errors';
import type { IPFamily } from '../model/ip-family';
import { AddressChangeWatch, type AddressNotificationSocket } from './address-change-watch';
import { dumpAddresses } from './address-dump';
import type { LinkLayer } from './ipvs-kernel';
import { WriteWindow } from './write-window';

const AF_INET = 2;
const AF_INET6 = 10;
/** The rtnetlink protocol of a netlink socket. */
const NETLINK_ROUTE = 0;
/** IFLA_INFO_KIND inside IFLA_LINKINFO. */
const IFLA_INFO_KIND = 1;
/** RT_SCOPE_UNIVERSE: what `ip addr add … dev kube-ipvs0` gives a service address. */
const RT_SCOPE_UNIVERSE = 0;
/** Address requests in flight at once (see `change`). */
const ADDRESS_WINDOW = 64;

/** IFLA_LINKINFO's nested IFLA_INFO_KIND = "dummy" (a netlink attribute, padded to 4 bytes). */
function dummyLinkInfo(): Buffer {
  return new NetlinkAttributeWriter(12).string(IFLA_INFO_KIND, 'dummy').toBuffer();
}

function addressBytes(ip: string): Buffer {
  return Buffer.from(ipaddr.parse(ip).toByteArray());
}

/** The errno name of a rejected netlink request ("Request rejected: EEXIST"). */
function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && e.code.startsWith('E')) return e.code;
  const m = typeof e?.message === 'string' ? /\b(E[A-Z]+)\b/.exec(e.message) : null;
  return m?.[1];
}

/** Binds (`add`) or unbinds one host address on interface `index`; already so is fine. */
async function changeAddress(
  s: RtNetlinkSocket,
  name: string,
  index: number,
  ip: string,
  add: boolean,
): Promise<void> {
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
    if (add) await s.newAddress(data, attrs, { flags: NLM_F_CREATE | NLM_F_REPLACE });
    else await s.delAddress(data, attrs);
  } catch (err) {
    const errno = errnoOf(err);
    if (add && errno === 'EEXIST') return;
    if (!add && (errno === 'EADDRNOTAVAIL' || errno === 'ENODEV')) return;
    throw new KubeProxyError(
      'RTNETLINK_FAILED',
      `rtnetlink: ${add ? 'add' : 'delete'} address ${ip} on ${name}: ${(err as Error).message}`,
    );
  }
}

/**
 * LinkLayer over rtnetlink through the `netlink` package: the kube-ipvs0 dummy link and its
 * /32 and /128 service addresses, without an `ip` process per change. Works in the network
 * namespace of the calling process (tests run it inside one through `ip netns exec`).
 *
 * Without `socket` it opens one on first use, loading the native addon then (not when this
 * package is imported): where no prebuilt addon fits, that first operation rejects with
 * @nodeagent/ipvs's IpvsUnavailableError saying why.
 */
export function rtnetlinkLinkLayer(
  socket?: RtNetlinkSocket,
  /**
   * Where address notifications arrive (see AddressChangeWatch). Opened with the socket when
   * this opens its own; absent with a given socket, every node address lookup dumps.
   */
  notifications?: AddressNotificationSocket,
): LinkLayer & {
  /** Closes the rtnetlink socket (one still opening is closed once made); the layer is unusable afterwards. */
  close(): void;
} {
  let current = socket;
  let opened: Promise<RtNetlinkSocket> | undefined = socket ? Promise.resolve(socket) : undefined;
  let closed = false;
  let watch: AddressChangeWatch | undefined = notifications && new AddressChangeWatch(notifications);
  const open = () => {
    opened ??= loadNetlinkAddon().then(
      (addon) => {
        const s = addon.createRtNetlink();
        // Closed while the addon loaded: the socket must not keep the process alive.
        if (closed) s.socket.close();
        else {
          current = s;
          watch = new AddressChangeWatch(addon.createNetlink(NETLINK_ROUTE));
        }
        return s;
      },
      (err: unknown) => {
        opened = undefined;
        throw err;
      },
    );
    return opened;
  };
  // One operation on the socket at a time. The IPv4 and IPv6 proxiers share this layer and sync
  // concurrently, but the kernel runs one dump per netlink socket (a second gets EBUSY) and the
  // netlink package cannot tell two interleaved multipart replies apart ("Multipart message not
  // terminated properly"), so overlapping calls failed syncs until the two drifted apart.
  let tail: Promise<unknown> = Promise.resolve();
  /** The last node address lookup per family, returned again while no notification says otherwise. */
  const lastLocal = new Map<IPFamily, { exceptLink: string; addresses: readonly string[] }>();
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
  // One RTM_GETLINK by name, not a dump of every link (a node has a veth per pod).
  const linkIndex = async (name: string): Promise<number | undefined> => {
    try {
      const [link] = await (await open()).getLink({}, { ifname: name });
      return link?.data.index;
    } catch (err) {
      if (errnoOf(err) === 'ENODEV') return undefined;
      throw err;
    }
  };
  const change = async (name: string, addresses: readonly string[], add: boolean) => {
    const index = await linkIndex(name);
    if (index === undefined) {
      if (add) throw new KubeProxyError('LINK_NOT_FOUND', `rtnetlink: no link named ${name}`);
      return;
    }
    const one = async (ip: string) => changeAddress(await open(), name, index, ip, add);
    // ADDRESS_WINDOW requests in flight (replies are single ACKs, matched by sequence number):
    // one round trip per address made a 1,000-Service full sync spend 4.6 s here in the
    // micro-VM against 0.8 s for `ip -batch`. After a failure no request starts and the started
    // ones settle before it is reported, so nothing is in flight when this returns.
    const window = new WriteWindow(ADDRESS_WINDOW);
    for (const ip of addresses) if (!(await window.run(1, () => one(ip)))) break;
    await window.drain();
  };
  return {
    ensureDummy: serially(async (name: string) => {
      if ((await linkIndex(name)) !== undefined) return;
      try {
        await (await open()).newLink(
          {},
          { ifname: name, linkinfo: dummyLinkInfo() },
          { flags: NLM_F_CREATE | NLM_F_EXCL },
        );
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
      }
    }),
    linkExists: serially(async (name: string) => (await linkIndex(name)) !== undefined),
    deleteLink: serially(async (name: string) => {
      const index = await linkIndex(name);
      if (index !== undefined) await (await open()).delLink({ index });
    }),
    listAddresses: serially(async (name: string) => {
      const index = await linkIndex(name);
      if (index === undefined) return [];
      return (await dumpAddresses(await open(), 0, (i) => i === index)).map((a) => a.address);
    }),
    addAddresses: serially((name: string, addresses: readonly string[]) => change(name, addresses, true)),
    deleteAddresses: serially((name: string, addresses: readonly string[]) => change(name, addresses, false)),
    // Every sync (upstream's GetAllLocalAddressesExcept, also one dump of every address): only
    // the family's addresses, and kube-ipvs0's (one per Service IP) skipped undecoded; and with
    // address notifications, the last answer again while none came about another interface.
    localAddresses: serially(async (family: IPFamily, exceptLink: string) => {
      const v6 = family === 'IPv6';
      const s = await open();
      const last = lastLocal.get(family);
      if (watch && last?.exceptLink === exceptLink && !watch.mayHaveChanged(v6)) return [...last.addresses];
      const except = await linkIndex(exceptLink);
      watch?.startLookup(v6, except);
      let dumped: Awaited<ReturnType<typeof dumpAddresses>>;
      try {
        dumped = await dumpAddresses(s, v6 ? AF_INET6 : AF_INET, (i) => i !== except);
      } catch (err) {
        watch?.forget();
        throw err;
      }
      const seen = new Set<string>();
      for (const { address: ip } of dumped) {
        if (ip.startsWith('127.') || ip === '::1' || /^fe[89ab]/i.test(ip)) continue;
        seen.add(ip);
      }
      lastLocal.set(family, { exceptLink, addresses: [...seen] });
      return [...seen];
    }),
    close() {
      // A socket still opening is closed once it is made (see open).
      closed = true;
      current?.socket.close();
      current = undefined;
      watch?.close();
      watch = undefined;
    },
  };
}
