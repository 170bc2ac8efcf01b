import { getSystemErrorName } from 'node:util';
import { loadNetlinkAddon } from '@nodeagent/ipvs/netlink';
import type { NetlinkMessage, NetlinkSocket } from 'netlink';
import { InvalidFieldError, KubeProxyError } from '../errors';

// Extended accounting objects (nfacct): named packet/byte counters in the kernel that iptables
// rules feed with `-m nfacct --nfacct-name NAME`. Upstream kube-proxy creates two of them over
// netlink (NFNL_SUBSYS_ACCT) and publishes their packet counts as metrics at scrape time.

/** Packets dropped by KUBE-FORWARD's conntrack INVALID rule (upstream's IPTablesCTStateInvalidDroppedNFAcctCounter). */
export const CT_STATE_INVALID_DROPPED_COUNTER = 'ct_state_invalid_dropped_pkts';
/** Packets accepted on NodePorts at 127.0.0.0/8 (upstream's LocalhostNodePortAcceptedNFAcctCounter). */
export const LOCALHOST_NODEPORTS_ACCEPTED_COUNTER = 'localhost_nps_accepted_pkts';
/** The counters upstream's iptables proxier ensures on every full sync. */
export const KUBE_PROXY_NFACCT_COUNTERS: readonly string[] = [
  CT_STATE_INVALID_DROPPED_COUNTER,
  LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
];

const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_ACCT = 7;
const NFNL_MSG_ACCT_NEW = 0;
const NFNL_MSG_ACCT_GET = 1;
const NFNETLINK_V0 = 0;
const AF_UNSPEC = 0;
const NFACCT_NAME = 1;
const NFACCT_PKTS = 2;
const NFACCT_BYTES = 3;
const NLMSG_ERROR = 2;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const ENOENT = 2;
const EBUSY = 16;
/** A kernel answers at once; this only bounds a lost reply. */
const REPLY_TIMEOUT_MS = 10_000;
/** NFACCT_NAME_MAX includes the terminating NUL. */
const NFACCT_NAME_MAX = 32;
/** Netlink attribute type bits other than the type itself (nested, byte order). */
const NLA_TYPE_MASK = 0x3fff;

/** One nfacct counter as the kernel reports it (what `nfacct get <name>` prints). */
export interface NfacctCounter {
  /** The counter's name (an iptables `-m nfacct --nfacct-name` target). */
  readonly name: string;
  /** Packets counted since the counter was created. */
  readonly packets: bigint;
  /** Bytes counted since the counter was created. */
  readonly bytes: bigint;
}

/** Creates and reads nfacct counters (upstream's pkg/proxy/util/nfacct Interface). */
export interface NfacctClient {
  /** Creates the counter unless it exists. */
  ensure(name: string): Promise<void>;
  /** The counter, or undefined when the kernel has none of that name. */
  get(name: string): Promise<NfacctCounter | undefined>;
  /** Closes the netlink socket; the client is unusable afterwards. */
  close(): void;
}

/** The kernel refused an nfacct request (no NFNL_SUBSYS_ACCT, a permission, …). */
export class NfacctError extends KubeProxyError {
  constructor(
    readonly op: 'ensure' | 'get',
    readonly counter: string,
    readonly errno: string,
  ) {
    super('NFACCT', `nfacct ${op} ${counter}: ${errno}`);
  }
}

/** No NETLINK_NETFILTER socket could be opened: the native `netlink` addon did not load (see `reason`). */
export class NfacctUnavailableError extends KubeProxyError {
  constructor(readonly reason: string) {
    super('NFACCT_UNAVAILABLE', `nfacct is not available to this process: ${reason}`);
  }
}

function validName(name: string): void {
  if (name.length === 0 || Buffer.byteLength(name) >= NFACCT_NAME_MAX || name.includes('\0'))
    throw new InvalidFieldError('nfacct name', name, `must be 1 to ${NFACCT_NAME_MAX - 1} bytes without NUL`);
}

/** nfgenmsg (family, version, res_id) followed by the NFACCT_NAME attribute. */
export function encodeNfacctRequest(name: string): Buffer {
  const value = Buffer.from(`${name}\0`);
  const attrLen = 4 + value.length;
  const out = Buffer.alloc(4 + ((attrLen + 3) & ~3));
  out.writeUInt8(AF_UNSPEC, 0);
  out.writeUInt8(NFNETLINK_V0, 1);
  out.writeUInt16BE(0, 2);
  out.writeUInt16LE(attrLen, 4);
  out.writeUInt16LE(NFACCT_NAME, 6);
  value.copy(out, 8);
  return out;
}

/** The name and counts of an NFNL_MSG_ACCT_NEW reply's payload (nfgenmsg + attributes). */
export function decodeNfacctCounter(payload: Buffer): NfacctCounter | undefined {
  let name: string | undefined;
  let packets = 0n;
  let bytes = 0n;
  for (let at = 4; at + 4 <= payload.length; ) {
    const len = payload.readUInt16LE(at);
    if (len < 4 || at + len > payload.length) break;
    const type = payload.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    const value = payload.subarray(at + 4, at + len);
    if (type === NFACCT_NAME) name = value.toString('utf8').replace(/\0.*$/s, '');
    else if (type === NFACCT_PKTS && value.length >= 8) packets = value.readBigUInt64BE(0);
    else if (type === NFACCT_BYTES && value.length >= 8) bytes = value.readBigUInt64BE(0);
    at += (len + 3) & ~3;
  }
  return name === undefined ? undefined : { name, packets, bytes };
}

/** The errno of an NLMSG_ERROR reply (0 for an ACK). */
function errnoOf(m: NetlinkMessage): number {
  return m.data.length >= 4 ? -m.data.readInt32LE(0) : 0;
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

const msgType = (msg: number) => (NFNL_SUBSYS_ACCT << 8) | msg;

/**
 * nfacct over a NETLINK_NETFILTER socket of the `netlink` package, in the calling process's
 * network namespace (a daemon run with `ip netns exec` gets that namespace's counters).
 *
 * Requests go out one at a time with NLM_F_ACK, and a request is answered when the NLMSG_ERROR
 * (the ACK, or the error) of its sequence number arrives, with every message of that sequence
 * before it. The package's own request() cannot be used: the kernel flags a GET's single
 * reply NLM_F_MULTI without a closing NLMSG_DONE, which the package rejects as an unterminated
 * multipart message (it hands such messages to 'invalid' listeners instead).
 * `openNetlinkNfacct` opens the socket.
 */
export function netlinkNfacct(socket: NetlinkSocket): NfacctClient {
  let pending: { seq: number; replies: NetlinkMessage[]; done: (errno: number) => void } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const onMessages = (msgs: NetlinkMessage[]) => {
    for (const m of msgs) {
      if (!pending || m.seq !== pending.seq) continue;
      if (m.type === NLMSG_ERROR) pending.done(errnoOf(m));
      else pending.replies.push(m);
    }
  };
  socket.on('message', onMessages);
  socket.on('invalid', (_err, msgs) => {
    if (Array.isArray(msgs)) onMessages(msgs);
  });
  socket.on('error', () => undefined);
  const exchange = (name: string, msg: number, flags: number) =>
    new Promise<{ errno: number; replies: NetlinkMessage[] }>((resolve, reject) => {
      const replies: NetlinkMessage[] = [];
      /** An errno answers the request; an Error (send failed, no reply) fails it. */
      const finish = (result: number | Error) => {
        clearTimeout(timer);
        pending = undefined;
        socket.ref(false);
        if (result instanceof Error) reject(result);
        else resolve({ errno: result, replies });
      };
      const op = msg === NFNL_MSG_ACCT_GET ? 'get' : 'ensure';
      const timer = setTimeout(() => finish(new NfacctError(op, name, 'no reply')), REPLY_TIMEOUT_MS);
      const seq = socket.generateSeq();
      pending = { seq, replies, done: finish };
      socket.ref(true);
      const header = { flags: NLM_F_REQUEST | NLM_F_ACK | flags, seq };
      socket.send(msgType(msg), encodeNfacctRequest(name), header, (err) => {
        if (err) finish(err);
      });
    });
  /** One request at a time: replies are matched to the single pending sequence number. */
  const request = (name: string, msg: number, flags: number) => {
    validName(name);
    const next = queue.then(() => exchange(name, msg, flags));
    queue = next.catch(() => undefined);
    return next;
  };
  const get = async (name: string): Promise<NfacctCounter | undefined> => {
    const { errno, replies } = await request(name, NFNL_MSG_ACCT_GET, 0);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) throw new NfacctError('get', name, errnoName(errno));
    for (const m of replies) {
      if (m.type !== msgType(NFNL_MSG_ACCT_NEW)) continue;
      const c = decodeNfacctCounter(Buffer.from(m.data));
      if (c?.name === name) return c;
    }
    return undefined;
  };
  return {
    get,
    async ensure(name) {
      if (await get(name)) return;
      const { errno } = await request(name, NFNL_MSG_ACCT_NEW, NLM_F_CREATE);
      // EBUSY: it exists after all (created meanwhile), which is what we wanted.
      if (errno !== 0 && errno !== EBUSY) throw new NfacctError('ensure', name, errnoName(errno));
    },
    close() {
      socket.close();
    },
  };
}

/**
 * nfacct over a new NETLINK_NETFILTER socket. The native `netlink` addon is loaded here, not
 * when this package is imported; where it cannot be (no prebuilt addon for this platform) this
 * rejects with NfacctUnavailableError naming the reason.
 */
export async function openNetlinkNfacct(): Promise<NfacctClient> {
  let addon: Awaited<ReturnType<typeof loadNetlinkAddon>>;
  try {
    addon = await loadNetlinkAddon();
  } catch (err) {
    const reason = (err as { reason?: unknown }).reason;
    throw new NfacctUnavailableError(typeof reason === 'string' ? reason : (err as Error).message);
  }
  return netlinkNfacct(addon.createNetlink(NETLINK_NETFILTER));
}
