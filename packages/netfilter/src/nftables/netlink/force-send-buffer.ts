import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { RawNetlinkSocket } from 'netlink';
import { loadLibc } from './libc-ffi';

// nf_tables commits a batch atomically only when BEGIN…END arrive in one skb, i.e. one sendmsg,
// and netlink refuses a datagram longer than the socket's send buffer (sk_sndbuf - 32). SO_SNDBUF
// is capped by net.core.wmem_max (often 4 MiB, so 8 MiB), which a 10k-Service table nearly fills.
// nft itself raises the buffer with SO_SNDBUFFORCE (CAP_NET_ADMIN, no cap) before sending a large
// batch; the `netlink` addon only offers SO_SNDBUF, so this calls setsockopt(2) through koffi
// (a prebuilt FFI, an optional dependency) on the addon's descriptor, found through /proc.

const SOL_SOCKET = 1;
const SO_SNDBUFFORCE = 32;
const NETLINK_NETFILTER = 12;

type SetSockOpt = (fd: number, level: number, name: number, value: Buffer, length: number) => number;

let setsockopt: Promise<SetSockOpt | null> | undefined;

/** setsockopt(2) through koffi (libc-ffi.ts), or null without koffi: SO_SNDBUF's cap stays. */
async function loadSetSockOpt(): Promise<SetSockOpt | null> {
  setsockopt ??= loadLibc().then((lib) =>
    lib ? (lib.func('int setsockopt(int, int, int, const void *, uint32_t)') as SetSockOpt) : null,
  );
  return setsockopt;
}

/**
 * Load koffi now (once per process) rather than inside the first large batch's send: loading
 * it took ~100 ms there, within the first full sync (issue #54). Resolves whether it is usable.
 */
export async function preloadForceSendBuffer(): Promise<boolean> {
  return (await loadSetSockOpt()) !== null;
}

/** The descriptor of this process's NETLINK_NETFILTER socket bound to `port`, from /proc. */
export function socketDescriptor(port: number): number | undefined {
  const row = readFileSync('/proc/self/net/netlink', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => Number(fields[1]) === NETLINK_NETFILTER && Number(fields[2]) === port >>> 0);
  const inode = row?.at(-1);
  if (inode === undefined) return undefined;
  const target = `socket:[${inode}]`;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) return Number(entry);
    } catch {
      // A descriptor closed while we looked.
    }
  }
  return undefined;
}

/**
 * Raise the socket's send buffer past net.core.wmem_max so a datagram of `datagramBytes` fits
 * (SO_SNDBUFFORCE; needs CAP_NET_ADMIN). Returns whether the socket now takes it.
 */
export async function forceSendBuffer(socket: RawNetlinkSocket, datagramBytes: number): Promise<boolean> {
  const call = await loadSetSockOpt();
  if (!call) return false;
  let fd: number | undefined;
  try {
    fd = socketDescriptor(socket.address().port);
  } catch {
    return false;
  }
  if (fd === undefined) return false;
  // The kernel doubles the value it is given; ask for the datagram plus headroom, rounded to 1 MiB.
  const wanted = Math.ceil((datagramBytes + 64 * 1024) / (1 << 20)) * (1 << 20);
  const value = Buffer.alloc(4);
  value.writeInt32LE(Math.min(wanted, 0x3fffffff));
  if (call(fd, SOL_SOCKET, SO_SNDBUFFORCE, value, 4) !== 0) return false;
  return socket.getSendBufferSize() - 32 >= datagramBytes;
}
