import { loadNetlinkAddon } from '@nodeagent/ipvs/netlink';
import {
  errnoName,
  forEachAttribute,
  isNetlinkFormatError,
  NetlinkAttributeWriter,
  NLA_TYPE_MASK,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  readBe64,
  readNetlinkError,
  readString,
} from '@nodeagent/primitives/netlink';
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
/** struct nfgenmsg: u8 family, u8 version, be16 res_id. */
const NFGENMSG_LENGTH = 4;
const ENOENT = 2;
const EBUSY = 16;
/** A kernel answers at once; this only bounds a lost reply. */
const REPLY_TIMEOUT_MS = 10_000;
/** NFACCT_NAME_MAX includes the terminating NUL. */
const NFACCT_NAME_MAX = 32;

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
  const request = new NetlinkAttributeWriter(48).fixedHeader(NFGENMSG_LENGTH, (out, at) => {
    out[at] = AF_UNSPEC;
    out[at + 1] = NFNETLINK_V0; // res_id stays 0
  });
  return request.string(NFACCT_NAME, name).toBuffer();
}

/**
 * The name and counts of an NFNL_MSG_ACCT_NEW reply's payload (nfgenmsg + attributes); unknown
 * attributes and counts shorter than a u64 are skipped.
 */
export function decodeNfacctCounter(payload: Buffer): NfacctCounter | undefined {
  const attributes = payload.subarray(NFGENMSG_LENGTH);
  let name: string | undefined;
  let packets = 0n;
  let bytes = 0n;
  try {
    forEachAttribute(attributes, (rawType, start, end) => {
      const type = rawType & NLA_TYPE_MASK;
      const value = attributes.subarray(start, end);
      if (type === NFACCT_NAME) name = readString(value);
      else if (type === NFACCT_PKTS && value.length >= 8) packets = readBe64(value);
      else if (type === NFACCT_BYTES && value.length >= 8) bytes = readBe64(value);
    });
  } catch (err) {
    // A truncated attribute ends the run; what came before it stands.
    if (!isNetlinkFormatError(err)) throw err;
  }
  return name === undefined ? undefined : { name, packets, bytes };
}

/** The errno of an NLMSG_ERROR reply (0 for an ACK), or the error of one too short to read. */
function replyErrno(m: NetlinkMessage): number | Error {
  try {
    return readNetlinkError(m.data).errno;
  } catch (err) {
    return err as Error;
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
  let pending: { seq: number; replies: NetlinkMessage[]; done: (result: number | Error) => void } | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const onMessages = (msgs: NetlinkMessage[]) => {
    for (const m of msgs) {
      if (!pending || m.seq !== pending.seq) continue;
      if (m.type === NLMSG_ERROR) pending.done(replyErrno(m));
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
