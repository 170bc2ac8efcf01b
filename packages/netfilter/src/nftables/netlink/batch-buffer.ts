// An nf_tables batch encoded where it is sent from: one buffer holding room for BEGIN, every
// message with its header, and room for END. At 1M endpoints a full sync's batch is ~66 MB;
// a buffer per message copied into a datagram held it twice through the send (issue #54).

import { InvalidFieldError } from '../../errors';
import { NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NLM_F_REQUEST } from './constants';
import { NftBatchTooLargeError } from './errors';
import { NFNL_HEADER_LENGTH } from './message';

/** One message of a batch: where its header is, and what to name when the kernel refuses it. */
export interface BatchMessage {
  /** Offset of its nlmsghdr in the batch's buffer. */
  readonly at: number;
  /** Header and attributes, in bytes. */
  readonly length: number;
  /** The operation as nft would spell it, for errors. */
  readonly operation: string;
  /** Index of the operation in the transaction (the first one, for merged element messages). */
  readonly index: number;
}

/** A message as tests read it: its header's fields and a view of its attributes. */
export interface BatchItemView {
  type: number;
  flags: number;
  family: number;
  attributes: Buffer;
  operation: string;
  index: number;
}

/** A batch's messages framed for one sendmsg, and the seqs of its BEGIN and END. */
export interface FramedBatch {
  datagram: Buffer;
  /** Seq of BEGIN; the messages follow it. */
  begin: number;
  /** Seq of END (taken also when END is left out, as the replies are matched by range). */
  end: number;
}

/** BEGIN and END are an nlmsghdr + nfgenmsg each. */
const MARKER = NFNL_HEADER_LENGTH;
/** A sent datagram can be no larger: sk_sndbuf is an int. */
const MAX_BATCH_BYTES = 2 ** 31 - 1;
/** What release() leaves committed: a change's batch fits, and needs no growing. */
const KEPT_BYTES = 64 * 1024;

type Resizable = ArrayBuffer & { resize(bytes: number): void };
/** ES2024's resizable ArrayBuffer (Node 20+); this repository compiles against ES2023's types. */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (
  bytes: number,
  options: { maxByteLength: number },
) => Resizable;

/**
 * The messages of one batch, written once. The storage is a resizable ArrayBuffer: address
 * space for the largest batch is reserved and pages are committed as it grows, so growing moves
 * nothing (a doubling buffer would hold the old and the new copy at once, both touched). Where
 * no such reservation is possible it falls back to a buffer that doubles by copying.
 *
 * Headers are written through a DataView, never with Buffer's write methods: those are shared
 * by every Buffer of the process, and once they see a resizable buffer's view V8 runs all of
 * them slower (a 1M-endpoint encoding took a third longer, mostly in writeUInt16LE).
 *
 * Headers are written with the operation's flags and seq 0: frame() numbers the messages, adds
 * NLM_F_REQUEST (and NLM_F_ACK) and writes BEGIN and END in the room left for them.
 */
export class BatchBuffer {
  /** The messages in order. */
  readonly messages: BatchMessage[] = [];
  private readonly storage: Resizable | undefined;
  private bytes: Buffer;
  private view: DataView;
  /** End of the last message (BEGIN's room comes first). */
  private end = MARKER;

  /**
   * `maxBytes`: the largest batch this buffer takes (tests make it small); `inPlace: false`
   * (tests) takes the copying fallback.
   */
  constructor(
    private readonly maxBytes = MAX_BATCH_BYTES,
    inPlace = true,
  ) {
    try {
      if (!inPlace) throw new RangeError('no reservation asked for');
      this.storage = new ResizableArrayBuffer(KEPT_BYTES, { maxByteLength: maxBytes });
    } catch {
      // No room to reserve (e.g. a small RLIMIT_AS): copy on growth instead.
      this.storage = undefined;
    }
    this.bytes = this.storage ? Buffer.from(this.storage, 0, KEPT_BYTES) : Buffer.allocUnsafe(KEPT_BYTES);
    this.view = viewOf(this.bytes);
  }

  /** Bytes of the whole batch as one datagram: BEGIN, the messages, END. */
  get byteLength(): number {
    return this.end + MARKER;
  }

  /** Appends one message: its header (seq 0), then `attributes` (already aligned). */
  append(
    type: number,
    flags: number,
    family: number,
    attributes: Uint8Array,
    operation: string,
    index: number,
  ): void {
    const length = NFNL_HEADER_LENGTH + attributes.length;
    const at = this.end;
    // END's room stays free behind the last message.
    this.reserve(at + length + MARKER);
    writeHeader(this.view, at, length, type, flags, 0, family, 0);
    this.bytes.set(attributes, at + NFNL_HEADER_LENGTH);
    this.end = at + length;
    this.messages.push({ at, length, operation, index });
  }

  /**
   * Messages `from` … `to - 1` framed for one sendmsg: BEGIN, each message with `flags` added
   * and the next seq, END when `commit`. The whole batch is framed in place (it is sent once);
   * a part of it (a split batch) is copied out, one datagram at a time.
   */
  frame(from: number, to: number, commit: boolean, flags: number, nextSeq: () => number): FramedBatch {
    const tail = commit ? MARKER : 0;
    let datagram: Buffer;
    let view: DataView;
    let shift: number;
    if (from === 0 && to === this.messages.length) {
      datagram = this.bytes.subarray(0, this.end + tail);
      view = this.view;
      shift = 0;
    } else {
      if (to <= from || from < 0 || to > this.messages.length)
        throw new InvalidFieldError(
          'batch messages',
          `${from}..${to}`,
          `are not within 0..${this.messages.length}`,
        );
      const first = (this.messages[from] as BatchMessage).at;
      const last = this.messages[to - 1] as BatchMessage;
      datagram = Buffer.allocUnsafe(MARKER + last.at + last.length - first + tail);
      datagram.set(this.bytes.subarray(first, last.at + last.length), MARKER);
      view = viewOf(datagram);
      shift = MARKER - first;
    }
    const begin = nextSeq();
    writeHeader(view, 0, MARKER, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, begin, 0, NFNL_SUBSYS_NFTABLES);
    for (let i = from; i < to; i++) {
      const at = (this.messages[i] as BatchMessage).at + shift;
      view.setUint16(at + 6, view.getUint16(at + 6, true) | flags, true);
      view.setUint32(at + 8, nextSeq(), true);
    }
    const end = nextSeq();
    if (commit)
      writeHeader(
        view,
        datagram.length - MARKER,
        MARKER,
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        end,
        0,
        NFNL_SUBSYS_NFTABLES,
      );
    return { datagram, begin, end };
  }

  /** Bytes messages `from` … `to - 1` take as one datagram, BEGIN and END included. */
  bytesOf(from: number, to: number): number {
    if (to <= from) return 2 * MARKER;
    const first = this.messages[from] as BatchMessage;
    const last = this.messages[to - 1] as BatchMessage;
    return last.at + last.length - first.at + 2 * MARKER;
  }

  /** The messages as header fields and views of their attributes (valid until release()). */
  items(): BatchItemView[] {
    return this.messages.map(({ at, length, operation, index }) => ({
      type: this.view.getUint16(at + 4, true),
      flags: this.view.getUint16(at + 6, true),
      family: this.view.getUint8(at + 16),
      attributes: this.bytes.subarray(at + NFNL_HEADER_LENGTH, at + length),
      operation,
      index,
    }));
  }

  /**
   * Forget the messages and give back all but a small batch's pages at once: the pages of a
   * full sync's batch would otherwise stay committed until the garbage collector happened to
   * free the buffer. Views handed out before become empty.
   */
  release(): void {
    this.messages.length = 0;
    this.end = MARKER;
    if (this.bytes.length <= KEPT_BYTES) return;
    if (this.storage) {
      this.storage.resize(KEPT_BYTES);
      this.bytes = Buffer.from(this.storage, 0, KEPT_BYTES);
    } else this.bytes = Buffer.allocUnsafe(KEPT_BYTES);
    this.view = viewOf(this.bytes);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.bytes.length) return;
    if (bytes > this.maxBytes) throw new NftBatchTooLargeError(bytes, this.maxBytes);
    const size = Math.min(Math.max(bytes, this.bytes.length * 2), this.maxBytes);
    if (this.storage) {
      // In place: the reservation's next pages become usable, nothing is copied.
      this.storage.resize(size);
      this.bytes = Buffer.from(this.storage, 0, size);
    } else {
      const grown = Buffer.allocUnsafe(size);
      grown.set(this.bytes.subarray(0, this.end));
      this.bytes = grown;
    }
    this.view = viewOf(this.bytes);
  }
}

const viewOf = (bytes: Buffer) => new DataView(bytes.buffer, bytes.byteOffset, bytes.length);

/** nlmsghdr (host order: little-endian on every platform the addon ships for) + nfgenmsg (res_id big-endian). */
function writeHeader(
  view: DataView,
  at: number,
  length: number,
  type: number,
  flags: number,
  seq: number,
  family: number,
  resId: number,
): void {
  view.setUint32(at, length, true);
  view.setUint16(at + 4, type, true);
  view.setUint16(at + 6, flags, true);
  view.setUint32(at + 8, seq, true);
  view.setUint32(at + 12, 0, true);
  view.setUint8(at + 16, family);
  view.setUint8(at + 17, 0);
  view.setUint16(at + 18, resId, false);
}
