import { readEndpointSlice } from './endpoint-slice';
import { PROTOBUF_MAGIC } from './envelope';
import { ProtobufDecodeError } from './errors';
import type { HeldObjects } from './held-objects';
import type { DecodedList } from './list';
import { readListMetaTo } from './list-meta';
import type { DecodeFlags } from './omit';
import { ProtoReader } from './reader';
import { readService } from './service';

const ITEM_READERS = { ServiceList: readService, EndpointSliceList: readEndpointSlice } as const;

/** More than any tag plus length prefix takes (two 10-byte varints). */
const PREFIX_MAX = 20;

/**
 * Decodes a protobuf list body (`k8s\0` + Unknown{typeMeta(1), raw(2) = {metadata(1), items(2)…}})
 * as its chunks arrive: each item is decoded, and handed to `each`, once its bytes are in, so a
 * 100 MB list (1M endpoints) is never held whole nor copied into one buffer; an item inside one
 * chunk is read in place, one split over chunks is assembled once. Go writes typeMeta before raw
 * and the ListMeta before the items; the ListMeta may come anywhere all the same.
 */
export class ListStreamReader<T> {
  private readonly list: DecodedList<T> = { metadata: {}, items: [] };
  /** Bytes carried over from the last chunk: an unfinished header, tag or length (small). */
  private carry: Buffer = Buffer.alloc(0);
  /** An item (or other field of raw) split over chunks, being assembled. */
  private field: { tag: number; bytes: Buffer; filled: number } | undefined;
  /** Offset in the body of the next unread byte, and where raw ends (-1: header not read yet). */
  private offset = 0;
  private rawEnd = -1;
  private readItem:
    | ((
        r: ProtoReader,
        end: number,
        flags: DecodeFlags,
        apiVersion: undefined,
        held?: HeldObjects,
      ) => unknown)
    | undefined;
  /** `held` as the item decoders ask it, noting what it hands back: that item skips `each`. */
  private readonly heldItems: HeldObjects | undefined;
  private handedBack: object | undefined;
  /** Unknown's fields after raw (contentEncoding, contentType): kept to check at the end. */
  private trailer: Buffer[] = [];

  /**
   * `held`: objects the caller holds; an item held at its resourceVersion is that object, its
   * message read no further than its metadata and not passed through `each` (it went through
   * it when the caller stored it).
   */
  constructor(
    private readonly flags: DecodeFlags,
    private readonly each: (item: T) => T,
    held?: HeldObjects,
  ) {
    this.heldItems = held && {
      at: (namespace, name, resourceVersion) => {
        this.handedBack = held.at(namespace, name, resourceVersion);
        return this.handedBack;
      },
    };
  }

  /** Reads the next chunk of the body: every item it completes is decoded and passed through `each`. */
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.field) buf = this.fill(buf);
    if (buf.length === 0) return;
    if (this.carry.length > 0) buf = Buffer.concat([this.carry, buf]);
    this.carry = Buffer.alloc(0);
    let pos = 0;
    if (this.rawEnd < 0) {
      pos = this.readHeader(buf);
      if (pos < 0) {
        this.carry = buf;
        return;
      }
      this.offset += pos;
    }
    pos = this.readFields(buf, pos);
    if (pos < buf.length && !this.field) {
      if (this.rawEnd >= 0 && this.offset >= this.rawEnd) this.trailer.push(buf.subarray(pos));
      else this.carry = Buffer.from(buf.subarray(pos));
    }
  }

  /** The list, once the body has ended; throws when it ended inside a field. */
  end(): DecodedList<T> {
    if (this.rawEnd < 0 || this.field || this.carry.length > 0 || this.offset < this.rawEnd)
      throw new ProtobufDecodeError('list', this.offset, 'the body ended inside the list');
    const trailer = Buffer.concat(this.trailer);
    const r = new ProtoReader(trailer);
    while (r.pos < trailer.length) {
      const tag = r.uint();
      if (tag === 26 && r.string() !== '')
        throw new ProtobufDecodeError('Unknown envelope', this.offset, 'a contentEncoding is not supported');
      else if (tag !== 26) r.skip(tag & 7);
    }
    return this.list;
  }

  /** Reads magic, typeMeta and raw's length; returns where raw's content starts, or -1 for more bytes. */
  private readHeader(buf: Buffer): number {
    if (buf.length < 4) return -1;
    for (let i = 0; i < 4; i++)
      if (buf[i] !== PROTOBUF_MAGIC[i])
        throw new ProtobufDecodeError('Unknown envelope', i, 'does not start with k8s\\0');
    const r = new ProtoReader(buf, 4);
    let kind = '';
    try {
      for (;;) {
        const tag = r.uint();
        if (tag === 18) {
          const length = r.uint();
          this.rawEnd = this.offset + r.pos + length;
          break;
        }
        if (tag === 10) kind = readKind(r);
        else r.skip(tag & 7);
      }
    } catch (err) {
      if (buf.length < 4096 && err instanceof ProtobufDecodeError) return -1; // not all of the header yet
      throw err;
    }
    this.readItem = ITEM_READERS[kind as keyof typeof ITEM_READERS];
    if (!this.readItem)
      throw new ProtobufDecodeError('list', 0, `kind ${JSON.stringify(kind)} is not a decoded list`);
    return r.pos;
  }

  /** Reads raw's complete fields from `pos`; starts assembling one that runs past the chunk. */
  private readFields(buf: Buffer, pos: number): number {
    while (pos < buf.length && this.offset < this.rawEnd) {
      const r = new ProtoReader(buf, pos, Math.min(buf.length, pos + PREFIX_MAX));
      let tag: number;
      let length: number;
      try {
        tag = r.uint();
        if ((tag & 7) !== 2)
          throw new ProtobufDecodeError('list', this.offset, `field ${tag >>> 3} is not length-delimited`);
        length = r.uint();
      } catch (err) {
        if (buf.length - pos < PREFIX_MAX) return pos; // the prefix is split: wait for the rest
        throw err;
      }
      const start = r.pos;
      if (this.offset + (start - pos) + length > this.rawEnd)
        throw new ProtobufDecodeError('list', this.offset, 'an item runs past the list');
      if (start + length > buf.length) {
        this.field = { tag, bytes: Buffer.allocUnsafe(length), filled: buf.length - start };
        buf.copy(this.field.bytes, 0, start);
        this.offset += buf.length - pos;
        return buf.length;
      }
      this.decodeField(tag, buf, start, start + length);
      this.offset += start + length - pos;
      pos = start + length;
    }
    return pos;
  }

  /** Fills the field being assembled from `chunk`; returns the rest of the chunk. */
  private fill(chunk: Buffer): Buffer {
    const f = this.field!;
    const take = Math.min(f.bytes.length - f.filled, chunk.length);
    chunk.copy(f.bytes, f.filled, 0, take);
    f.filled += take;
    this.offset += take;
    if (f.filled < f.bytes.length) return chunk.subarray(chunk.length);
    this.field = undefined;
    this.decodeField(f.tag, f.bytes, 0, f.bytes.length);
    return chunk.subarray(take);
  }

  private decodeField(tag: number, buf: Buffer, start: number, end: number): void {
    const r = new ProtoReader(buf, start, end);
    if (tag === 18) {
      this.handedBack = undefined;
      const item = this.readItem!(r, end, this.flags, undefined, this.heldItems) as T;
      this.list.items.push(item === this.handedBack ? item : this.each(item));
    } else if (tag === 10) this.list.metadata = readListMetaTo(r, end) as DecodedList<T>['metadata'];
  }
}

function readKind(r: ProtoReader): string {
  const end = r.end();
  let kind = '';
  while (r.pos < end) {
    const tag = r.uint();
    if (tag === 18) kind = r.string();
    else r.skip(tag & 7);
  }
  return kind;
}
