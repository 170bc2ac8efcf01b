// A transaction's operations as nf_tables batch messages. Element operations in a row on one
// set become one NEWSETELEM/DELSETELEM message (split where an attribute would overflow), as
// nft sends them.

import { NLA_HEADER_LENGTH, nlaAlign, writeAttributeHeader } from '@nodeagent/primitives/netlink';
import { InvalidFieldError, ObjectReferenceError } from '../../errors';
import type { NftElementTextSource } from '../element-text';
import type { NftChain, NftElement, NftFamily, NftMap, NftRule, NftSet, NftTable } from '../model';
import { NFT_NAME_LENGTH_MAX } from '../model';
import {
  type NftPackedElementSource,
  type NftPackedElementSteps,
  type NftPackedElementVisitor,
  type PackedElementTexts,
  packedElementTexts,
} from '../packed-element';
import { type PackedTail, readPackedTail } from '../packed-element-form';
import { PACKED_END, Unpacker } from '../packed-parts';
import { NFT_NAME_PATTERN } from '../references';
import type { NftOperation, NftVerb } from '../transaction';
import { AttributeWriter, NLA_F_NESTED } from './attributes';
import { BatchBuffer } from './batch-buffer';
import { hookNumber, priorityNumber } from './chain-hooks';
import {
  NFPROTO,
  NFT_DATA_VERDICT,
  NFT_SET_ELEM_INTERVAL_END,
  NftaChain,
  NftaHook,
  NftaList,
  NftaRule,
  NftaSet,
  NftaSetDesc,
  NftaSetElem,
  NftaSetElemList,
  NftaSetField,
  NftaTable,
  NftMsg,
  NftSetFlag,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  Verdict,
} from './constants';
import {
  dataTypeId,
  encodeVerdict,
  type KeyCodec,
  keyCodec,
  keyLength,
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  parseVerdict,
  writeKey,
  writeKeyText,
} from './data-types';
import { nftMessageType } from './message';
import { writePackedKey } from './packed-key';
import { newRuleBatch, typeofToType } from './rule/compile-rule';
import type { AnonymousSet, CompileRule, NetlinkSetInfo, RuleBatchState } from './rule/types';
import { dataTypeNamed, declareSetType } from './set-types';
import { parseNftTime } from './time';
import { typeofRecord } from './typeof-udata';
import {
  ByteOrder,
  COMMENT_LENGTH_MAX,
  commentUdata,
  SetUdata,
  UDATA_COMMENT,
  UdataWriter,
} from './userdata';

/** nft's expression type number of a concatenation, recorded in a concatenated set's udata. */
const EXPR_CONCAT = 13;
/** …and of a verdict, recorded for the values of an anonymous verdict map (vmap). */
const EXPR_VERDICT = 1;
/** A rest text's PACKED_END: a comment or timeout follows the value. */
const PACKED_END_CHAR = String.fromCharCode(PACKED_END);
/** Leave room under the u16 nla_len of NFTA_SET_ELEM_LIST_ELEMENTS. */
const ELEMENTS_PER_MESSAGE_BYTES = 60_000;

/** A set or map of the table as the encoder needs it: from the kernel or declared in the batch. */
export interface KnownSet extends NetlinkSetInfo {
  kind: 'set' | 'map';
  /** The key as type names (`ipv4_addr . inet_service`), also for typeof sets, whose keyType is the typeof text. */
  keyTypeNames: string;
  /** Maps: the value as type names (`verdict` for verdict maps). */
  valueTypeNames?: string;
  /** The model's declaration (type text, flags…), when known. */
  declaration?: NftSet | NftMap;
}

export interface EncodeContext {
  family: NftFamily;
  table: string;
  /** Named sets and maps: the table's, updated here as the transaction declares and deletes them. */
  sets: Map<string, KnownSet>;
  compileRule?: CompileRule;
  /** Batch-local set ids; starts at 1. */
  nextSetId?: number;
  /**
   * The writer element lists are built in before each message copies them: a client passes
   * the same one to every batch, so a change's few elements take no new buffer.
   */
  elementList?: AttributeWriter;
  /** The buffer the messages are written into (a client reuses one); a new one when not given. */
  batch?: BatchBuffer;
}

/**
 * A packed element of a set, or of a map with a data value, as element() writes it:
 * ELEM { KEY { VALUE key }, DATA { VALUE value } }. Every length is known from the codecs, so
 * the five headers are written in one reserved attribute (issue #54: a full sync writes 510k of
 * these at 5,000 Services × 50 endpoints; opening and closing each nest cost more than the
 * bytes). False, with part of it written, when a key or value is not a form writePackedKey writes.
 */
function packedDataElement(
  list: AttributeWriter,
  keyCodec: KeyCodec,
  id: string,
  keyAt: number,
  valueCodec: KeyCodec | undefined,
  rest: string,
): boolean {
  const keyLength = nlaAlign(keyCodec.length);
  const keyNest = 2 * NLA_HEADER_LENGTH + keyLength;
  const dataNest = valueCodec ? 2 * NLA_HEADER_LENGTH + nlaAlign(valueCodec.length) : 0;
  const at = list.reserveAttribute(NftaList.ELEM | NLA_F_NESTED, keyNest + dataNest);
  const out = list.bytesView;
  writeAttributeHeader(out, at, keyNest, NftaSetElem.KEY | NLA_F_NESTED);
  writeAttributeHeader(out, at + NLA_HEADER_LENGTH, NLA_HEADER_LENGTH + keyCodec.length, NFTA_DATA_VALUE);
  // writePackedKey zeroes the key's own bytes; the attribute's padding after them is ours.
  for (let i = at + 2 * NLA_HEADER_LENGTH + keyCodec.length; i < at + keyNest; i++) out[i] = 0;
  if (!writePackedKey(keyCodec, id, keyAt, out, at + 2 * NLA_HEADER_LENGTH)) return false;
  if (!valueCodec) return true;
  const dataAt = at + keyNest;
  writeAttributeHeader(out, dataAt, dataNest, NftaSetElem.DATA | NLA_F_NESTED);
  writeAttributeHeader(
    out,
    dataAt + NLA_HEADER_LENGTH,
    NLA_HEADER_LENGTH + valueCodec.length,
    NFTA_DATA_VALUE,
  );
  for (let i = dataAt + 2 * NLA_HEADER_LENGTH + valueCodec.length; i < dataAt + dataNest; i++) out[i] = 0;
  return writePackedKey(valueCodec, rest, 0, out, dataAt + 2 * NLA_HEADER_LENGTH);
}

function checkName(field: string, name: string): string {
  if (!NFT_NAME_PATTERN.test(name) || name.length >= NFT_NAME_LENGTH_MAX)
    throw new InvalidFieldError(
      field,
      name,
      'is not a valid nftables name ([A-Za-z_.][A-Za-z0-9_./-]*, < 256 chars)',
    );
  return name;
}

function newFlags(verb: NftVerb): number {
  return verb === 'create' ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE;
}

class Encoder {
  readonly batch: BatchBuffer;
  private readonly family: number;
  private nextSetId: number;
  /** Made on the first rule (a batch of element changes has none). */
  private ruleBatch: RuleBatchState | undefined;
  private list: AttributeWriter | undefined;
  /** An element message's attributes, built here and copied into the batch; made on first use. */
  private elementMessage: AttributeWriter | undefined;
  /** Verdict map values by text (kube-proxy's maps repeat a few hundred verdicts many times); made on first use. */
  private verdicts: Map<string, Buffer> | undefined;
  /** The same by packed value (packedElements); made on first use. */
  private packedVerdicts: Map<string, Buffer> | undefined;
  /** Texts of packed elements: the first keys of each message, and the elements written from text. */
  private readonly unpacker = new Unpacker();

  constructor(private readonly ctx: EncodeContext) {
    this.family = NFPROTO[ctx.family];
    this.nextSetId = ctx.nextSetId ?? 1;
    checkName('table', ctx.table);
    this.batch = ctx.batch ?? new BatchBuffer();
  }

  private push(
    msg: number,
    flags: number,
    attributes: AttributeWriter,
    operation: string,
    index: number,
  ): void {
    // Copied into the batch at once: no buffer per message outlives this call.
    this.batch.append(nftMessageType(msg), flags, this.family, attributes.toBuffer(), operation, index);
  }

  private prefix(verb: NftVerb, kind: string, name?: string): string {
    const base = `${verb} ${kind} ${this.ctx.family} ${this.ctx.table}`;
    return name === undefined ? base : `${base} ${name}`;
  }

  encode(operations: readonly NftOperation[]): void {
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i] as NftOperation;
      const { verb, object } = op;
      switch (object.kind) {
        case 'table':
          this.table(verb, object, i);
          break;
        case 'chain':
          this.chain(verb, object, i);
          break;
        case 'set':
        case 'map':
          this.set(verb, object, i);
          break;
        case 'rule':
          this.rule(verb, object, i);
          break;
        case 'element': {
          // Gather the run of element operations with the same verb on the same set.
          const run: NftElement[] = [object];
          while (i + 1 < operations.length) {
            const next = operations[i + 1] as NftOperation;
            if (
              next.verb !== verb ||
              next.object.kind !== 'element' ||
              next.object.container !== object.container
            )
              break;
            run.push(next.object);
            i++;
          }
          this.elements(verb, run, i - run.length + 1);
          break;
        }
        default:
          throw new InvalidFieldError(
            'object',
            (object as { kind: unknown }).kind,
            'is not an nftables object',
          );
      }
    }
  }

  private table(verb: NftVerb, table: NftTable, index: number) {
    const w = new AttributeWriter().string(NftaTable.NAME, this.ctx.table);
    const operation = this.prefix(verb, 'table');
    switch (verb) {
      case 'add':
      case 'create': {
        const udata = commentUdata('table comment', table.comment);
        if (udata) w.bytes(NftaTable.USERDATA, udata);
        return this.push(NftMsg.NEWTABLE, newFlags(verb), w, operation, index);
      }
      case 'delete':
        this.forgetAllSets();
        return this.push(NftMsg.DELTABLE, 0, w, operation, index);
      case 'destroy':
        this.forgetAllSets();
        return this.push(NftMsg.DESTROYTABLE, 0, w, operation, index);
      case 'flush':
        // nft's `flush table`: every rule of every chain; sets keep their elements.
        return this.push(
          NftMsg.DELRULE,
          0,
          new AttributeWriter().string(NftaRule.TABLE, this.ctx.table),
          operation,
          index,
        );
      default:
        throw new InvalidFieldError(`table ${this.ctx.table}`, verb, 'is not a table operation');
    }
  }

  private forgetAllSets(): void {
    this.ctx.sets.clear();
  }

  private chain(verb: NftVerb, chain: NftChain, index: number) {
    const name = checkName('chain name', chain.name);
    const operation = this.prefix(verb, 'chain', name);
    const w = new AttributeWriter().string(NftaChain.TABLE, this.ctx.table).string(NftaChain.NAME, name);
    switch (verb) {
      case 'add':
      case 'create': {
        if (chain.type || chain.hook) {
          if (!chain.type || !chain.hook || chain.priority === undefined)
            throw new InvalidFieldError(`chain ${name}`, chain, 'a base chain needs type, hook and priority');
          const hook = hookNumber(this.ctx.family, name, chain.hook);
          const priority = priorityNumber(this.ctx.family, name, chain.priority, chain.hook);
          w.string(NftaChain.TYPE, chain.type);
          if (chain.policy !== undefined)
            w.u32(NftaChain.POLICY, chain.policy === 'accept' ? Verdict.ACCEPT : Verdict.DROP);
          w.nested(NftaChain.HOOK, (h) => {
            h.u32(NftaHook.HOOKNUM, hook).u32(NftaHook.PRIORITY, priority);
            if (chain.device !== undefined) h.string(NftaHook.DEV, chain.device);
          });
        } else if (chain.policy !== undefined) {
          throw new InvalidFieldError(
            `chain ${name} policy`,
            chain.policy,
            'needs a base chain (type, hook, priority)',
          );
        }
        const udata = commentUdata(`chain ${name} comment`, chain.comment);
        if (udata) w.bytes(NftaChain.USERDATA, udata);
        return this.push(NftMsg.NEWCHAIN, newFlags(verb), w, operation, index);
      }
      case 'delete':
        return this.push(NftMsg.DELCHAIN, 0, w, operation, index);
      case 'destroy':
        return this.push(NftMsg.DESTROYCHAIN, 0, w, operation, index);
      case 'flush':
        return this.push(
          NftMsg.DELRULE,
          0,
          new AttributeWriter().string(NftaRule.TABLE, this.ctx.table).string(NftaRule.CHAIN, name),
          operation,
          index,
        );
      default:
        throw new InvalidFieldError(`chain ${name}`, verb, 'is not a chain operation');
    }
  }

  private set(verb: NftVerb, set: NftSet | NftMap, index: number) {
    const name = checkName(`${set.kind} name`, set.name);
    const operation = this.prefix(verb, set.kind, name);
    switch (verb) {
      case 'add':
      case 'create': {
        const { attributes, known } = this.declareSet(set);
        this.ctx.sets.set(name, known);
        return this.push(NftMsg.NEWSET, newFlags(verb), attributes, operation, index);
      }
      case 'delete':
      case 'destroy': {
        this.ctx.sets.delete(name);
        const w = new AttributeWriter().string(NftaSet.TABLE, this.ctx.table).string(NftaSet.NAME, name);
        return this.push(verb === 'delete' ? NftMsg.DELSET : NftMsg.DESTROYSET, 0, w, operation, index);
      }
      case 'flush': {
        const w = new AttributeWriter()
          .string(NftaSetElemList.TABLE, this.ctx.table)
          .string(NftaSetElemList.SET, name);
        return this.push(NftMsg.DELSETELEM, 0, w, operation, index);
      }
      default:
        throw new InvalidFieldError(`${set.kind} ${name}`, verb, `is not a ${set.kind} operation`);
    }
  }

  private declareSet(set: NftSet | NftMap): { attributes: AttributeWriter; known: KnownSet } {
    const field = `${set.kind} ${set.name}`;
    // typeof: the kernel gets the expressions' types; nft's userdata keeps the expressions.
    const keyTypeNames = set.typeof ? typeofToType(set.type, this.ctx.family) : set.type;
    const key = declareSetType(`${field} type`, keyTypeNames);
    const isVerdictMap = set.kind === 'map' && set.valueType.trim() === 'verdict';
    const valueTypeNames =
      set.kind !== 'map'
        ? undefined
        : set.typeof && !isVerdictMap
          ? typeofToType(set.valueType, this.ctx.family)
          : set.valueType;
    let flags = set.kind === 'map' ? NftSetFlag.MAP : 0;
    for (const flag of set.flags ?? []) {
      if (flag === 'constant') flags |= NftSetFlag.CONSTANT;
      else if (flag === 'dynamic') flags |= NftSetFlag.EVAL;
      else if (flag === 'interval') flags |= NftSetFlag.INTERVAL;
      else if (flag === 'timeout') flags |= NftSetFlag.TIMEOUT;
      else throw new InvalidFieldError(`${field} flags`, flag, 'is not a set flag');
    }
    if (set.timeout !== undefined) flags |= NftSetFlag.TIMEOUT;
    if (key.concatenated && flags & NftSetFlag.INTERVAL) flags |= NftSetFlag.CONCAT;
    const setId = this.nextSetId++;
    const w = new AttributeWriter()
      .string(NftaSet.TABLE, this.ctx.table)
      .string(NftaSet.NAME, set.name)
      .u32(NftaSet.FLAGS, flags)
      .u32(NftaSet.KEY_TYPE, key.id)
      .u32(NftaSet.KEY_LEN, key.length);
    const udata = new UdataWriter().u32(
      SetUdata.KEYBYTEORDER,
      key.concatenated ? ByteOrder.INVALID : (key.parts[0]?.byteOrder ?? 0),
    );
    let valueLength: number | undefined;
    let valueConcatenated = false;
    if (set.kind === 'map') {
      if (set.valueType.trim() === 'verdict') {
        w.u32(NftaSet.DATA_TYPE, NFT_DATA_VERDICT).u32(NftaSet.DATA_LEN, 0);
        udata.u32(SetUdata.DATABYTEORDER, ByteOrder.INVALID);
        valueLength = 16;
      } else {
        const value = declareSetType(`${field} value type`, valueTypeNames as string);
        w.u32(NftaSet.DATA_TYPE, value.id).u32(NftaSet.DATA_LEN, value.length);
        udata.u32(
          SetUdata.DATABYTEORDER,
          value.concatenated ? ByteOrder.INVALID : (value.parts[0]?.byteOrder ?? 0),
        );
        valueLength = value.length;
        valueConcatenated = value.concatenated;
      }
    }
    if (set.size !== undefined || (key.concatenated && flags & NftSetFlag.INTERVAL)) {
      w.nested(NftaSet.DESC, (d) => {
        if (set.size !== undefined) {
          if (!Number.isInteger(set.size) || set.size <= 0 || set.size > 0xffffffff)
            throw new InvalidFieldError(`${field} size`, set.size, 'is not a positive 32-bit integer');
          d.u32(NftaSetDesc.SIZE, set.size);
        }
        if (key.concatenated && flags & NftSetFlag.INTERVAL)
          d.nested(NftaSetDesc.CONCAT, (c) => {
            for (const part of key.parts) c.nested(1, (f) => f.u32(NftaSetField.LEN, (part.length + 3) & ~3));
          });
      });
    }
    w.u32(NftaSet.ID, setId);
    if (set.timeout !== undefined) w.u64(NftaSet.TIMEOUT, parseNftTime(`${field} timeout`, set.timeout));
    if (set.typeof) udata.nested(SetUdata.KEY_TYPEOF, typeofRecord(set.type));
    else if (key.concatenated)
      udata.nested(SetUdata.KEY_TYPEOF, (t) => t.u32(0, EXPR_CONCAT).put(1, Buffer.alloc(0)));
    if (set.kind === 'map' && set.typeof && !isVerdictMap)
      udata.nested(SetUdata.DATA_TYPEOF, typeofRecord(set.valueType));
    else if (valueConcatenated)
      udata.nested(SetUdata.DATA_TYPEOF, (t) => t.u32(0, EXPR_CONCAT).put(1, Buffer.alloc(0)));
    if (set.kind === 'map') udata.u32(SetUdata.DATA_INTERVAL, 0);
    if (set.comment !== undefined) {
      if (Buffer.byteLength(set.comment) > COMMENT_LENGTH_MAX)
        throw new InvalidFieldError(
          `${field} comment`,
          set.comment,
          `is longer than ${COMMENT_LENGTH_MAX} bytes`,
        );
      udata.string(SetUdata.COMMENT, set.comment);
    }
    w.bytes(NftaSet.USERDATA, udata.toBuffer());
    const known: KnownSet = {
      kind: set.kind,
      name: set.name,
      keyType: set.type,
      keyTypeNames,
      keyLength: key.length,
      flags,
      setId,
      declaration: set,
      ...(set.kind === 'map' ? { valueType: set.valueType, valueTypeNames, valueLength } : {}),
    };
    return { attributes: w, known };
  }

  private knownSet(verb: NftVerb, container: string): KnownSet {
    const known = this.ctx.sets.get(container);
    if (!known)
      throw new ObjectReferenceError(
        `${verb} element ${this.ctx.family} ${this.ctx.table}`,
        container,
        'is not a set or map of the table',
      );
    return known;
  }

  private elements(verb: NftVerb, elements: readonly NftElement[], firstIndex: number): void {
    const run = this.startRun(verb, (elements[0] as NftElement).container, firstIndex);
    for (let offset = 0; offset < elements.length; offset++) {
      const element = elements[offset] as NftElement;
      this.runElement(run, element.key, element.value, element.comment, element.timeout, firstIndex + offset);
    }
    this.flushRun(run, firstIndex + elements.length);
  }

  /**
   * Elements given as text (IncrementalNftTable.forEachElementText), added after the operations:
   * one run of NEWSETELEM messages per container, each element written straight from its key
   * and value text. Their operation index is `index` (one past the last operation).
   */
  elementTexts(source: NftElementTextSource, index: number): void {
    let run: ElementRun | undefined;
    source((container, key, value, comment, timeout) => {
      if (run?.container !== container) {
        if (run) this.flushRun(run, index);
        run = this.startRun('add', container, index);
      }
      this.runElement(run, key, value === '' ? undefined : value, comment, timeout, index);
    });
    if (run) this.flushRun(run, index);
  }

  /**
   * The one buffer element lists are written into, emptied for each run: it grows to a
   * message's size once per batch instead of a 60 KiB buffer per run (a diff's few elements
   * took two, and so much external memory per sync brought on garbage collections). With
   * `ctx.elementList` it is the client's, kept from batch to batch.
   */
  private elementList(): AttributeWriter {
    this.list ??= this.ctx.elementList ?? new AttributeWriter(1024);
    this.list.truncate(0);
    return this.list;
  }

  private startRun(verb: NftVerb, name: string, firstIndex: number): ElementRun {
    const container = checkName('element set', name);
    const set = this.knownSet(verb, container);
    if (set.flags & NftSetFlag.INTERVAL)
      throw new InvalidFieldError(
        `${set.kind} ${container}`,
        'interval',
        'elements of interval sets are not supported by the netlink client yet',
      );
    let msg: number;
    let flags = 0;
    if (verb === 'add' || verb === 'create') {
      msg = NftMsg.NEWSETELEM;
      flags = newFlags(verb);
    } else if (verb === 'delete') msg = NftMsg.DELSETELEM;
    else if (verb === 'destroy') msg = NftMsg.DESTROYSETELEM;
    else throw new InvalidFieldError(`element of ${container}`, verb, 'is not an element operation');
    const withValue = msg === NftMsg.NEWSETELEM;
    return {
      verb,
      container,
      set,
      msg,
      flags,
      withValue,
      codecs: this.setCodecs(set, withValue),
      list: this.elementList(),
      first: firstIndex,
      count: 0,
      shownKeys: [],
    };
  }

  /** One element appended to the run's message; a message that would overflow is sent first. */
  private runElement(
    run: ElementRun,
    key: readonly string[] | string,
    value: readonly string[] | string | undefined,
    comment: string | undefined,
    timeout: string | undefined,
    index: number,
  ): void {
    const before = run.list.length;
    this.element(run, key, value, comment, timeout);
    this.elementWritten(run, before, index);
    if (run.count < 3) run.shownKeys.push(typeof key === 'string' ? key : key.join(' . '));
    run.count++;
  }

  /** After an element was written from `before` on: a message it overflows is sent without it. */
  private elementWritten(run: ElementRun, before: number, index: number): void {
    if (run.list.length > ELEMENTS_PER_MESSAGE_BYTES && before > 0) {
      // This element overflows the message: it starts the next one instead.
      const moved = Buffer.from(run.list.toBuffer().subarray(before));
      run.list.truncate(before);
      this.flushRun(run, index);
      run.list.raw(moved);
    }
  }

  /**
   * Elements in the table's packed form (IncrementalNftTable.forEachPackedElement), added after
   * the operations as elementTexts adds them, byte for byte: most are written from the packed
   * strings (packedElement); the others, and any that would fail, from their texts.
   */
  packedElements(source: NftPackedElementSource, index: number): void {
    const all = (visit: NftPackedElementVisitor): Iterable<void> => {
      source(visit);
      return [];
    };
    for (const _ of this.packedElementSteps(all, index));
  }

  /** packedElements from a source in steps, a step of this for each of the source's. */
  *packedElementSteps(source: NftPackedElementSteps, index: number): Generator<void> {
    let run: ElementRun | undefined;
    const texts: PackedElementTexts = { key: '', value: '', comment: undefined, timeout: undefined };
    yield* source((container, id, keyAt, rest) => {
      if (run?.container !== container) {
        if (run) this.flushRun(run, index);
        run = this.startRun('add', container, index);
      }
      const before = run.list.length;
      let written: boolean;
      try {
        written = this.packedElement(run, id, keyAt, rest);
      } catch {
        // The text path raises the error, as for any other element.
        written = false;
      }
      if (!written) {
        run.list.truncate(before);
        const { key, value, comment, timeout } = packedElementTexts(this.unpacker, id, keyAt, rest, texts);
        this.runElement(run, key, value === '' ? undefined : value, comment, timeout, index);
        return;
      }
      this.elementWritten(run, before, index);
      if (run.count < 3) run.shownKeys.push(this.unpacker.text(id, keyAt));
      run.count++;
    });
    if (run) this.flushRun(run, index);
  }

  /**
   * element() for an added element given packed, when its key and value take the forms
   * writePackedKey writes and it has no timeout, nor a comment unless it is a verdict map's;
   * false otherwise (with part of it written: the caller truncates).
   */
  private packedElement(run: ElementRun, id: string, keyAt: number, rest: string): boolean {
    const end = rest.length > 0 ? rest.indexOf(PACKED_END_CHAR) : -1;
    const comment = end < 0 ? undefined : packedComment(rest, end);
    if (comment === null) return false;
    const value = end < 0 ? rest : rest.slice(0, end);
    const { list, set, codecs } = run;
    const isMap = set.kind === 'map';
    // The text path's errors: a map element without value, a set element with one.
    if (isMap === (value === '')) return false;
    const valueCodec = isMap ? codecs.value : undefined;
    if (valueCodec !== 'verdict')
      return comment === undefined && packedDataElement(list, codecs.key, id, keyAt, valueCodec, value);
    const elem = list.open(NftaList.ELEM);
    const keyNest = list.open(NftaSetElem.KEY);
    const keyAt2 = list.reserveAttribute(NFTA_DATA_VALUE, codecs.key.length);
    if (!writePackedKey(codecs.key, id, keyAt, list.bytesView, keyAt2)) return false;
    list.close(keyNest, NftaSetElem.KEY);
    const data = list.open(NftaSetElem.DATA);
    list.nestedBytes(NFTA_DATA_VERDICT, this.packedVerdictPayload(value));
    list.close(data, NftaSetElem.DATA);
    // As element() writes it, after the data. kube-proxy's service-ips map gives every element
    // a comment (20,000 at 1M endpoints), which the text path took ~5 µs each to write.
    if (comment !== undefined) writeCommentUdata(list, NftaSetElem.USERDATA, set, comment);
    list.close(elem, NftaList.ELEM);
    return true;
  }

  /** verdictPayload of a packed value (no comment or timeout), cached by the packed string itself. */
  private packedVerdictPayload(rest: string): Buffer {
    this.packedVerdicts ??= new Map();
    let payload = this.packedVerdicts.get(rest);
    if (!payload) {
      payload = this.verdictPayload(this.unpacker.text(rest, 0));
      this.packedVerdicts.set(rest, payload);
    }
    return payload;
  }

  /** The run's elements so far as one message; the next message's operations start at `index`. */
  private flushRun(run: ElementRun, index: number): void {
    if (run.list.length === 0) return;
    this.elementMessage ??= new AttributeWriter(run.list.length + 256);
    const w = this.elementMessage;
    w.truncate(0);
    w.string(NftaSetElemList.TABLE, this.ctx.table).string(NftaSetElemList.SET, run.container);
    if (run.set.setId !== undefined) w.u32(NftaSetElemList.SET_ID, run.set.setId);
    w.nestedBytes(NftaSetElemList.ELEMENTS, run.list.toBuffer());
    const shown = run.count > 3 ? `${run.shownKeys.join(', ')}, … (${run.count})` : run.shownKeys.join(', ');
    this.push(
      run.msg,
      run.flags,
      w,
      `${this.prefix(run.verb, 'element', run.container)} { ${shown} }`,
      run.first,
    );
    // The batch holds a copy: the list's buffer is written over by the next elements.
    run.list.truncate(0);
    run.count = 0;
    run.shownKeys = [];
    run.first = index;
  }

  /** The set's key and value codecs, resolved once per run of elements. */
  private setCodecs(set: KnownSet, withValue: boolean): ElementCodecs {
    const valueType = set.kind === 'map' && withValue ? (set.valueTypeNames ?? '') : undefined;
    return {
      key: keyCodec(set.keyTypeNames),
      value:
        valueType === undefined
          ? undefined
          : valueType.trim() === 'verdict'
            ? 'verdict'
            : keyCodec(valueType),
    };
  }

  /** A verdict map value's NFTA_DATA_VERDICT payload, parsed once per distinct text. */
  private verdictPayload(parts: readonly string[] | string): Buffer {
    if (typeof parts !== 'string' && parts.length !== 1)
      throw new InvalidFieldError('nft verdict value', parts, 'must be one verdict');
    const text = typeof parts === 'string' ? parts : (parts[0] as string);
    this.verdicts ??= new Map();
    let payload = this.verdicts.get(text);
    if (!payload) {
      payload = encodeVerdict(parseVerdict(text));
      this.verdicts.set(text, payload);
    }
    return payload;
  }

  /** One NFTA_LIST_ELEM appended to the run's list, written in place (key and value as parts or text). */
  private element(
    run: ElementRun,
    key: readonly string[] | string,
    value: readonly string[] | string | undefined,
    comment: string | undefined,
    timeout: string | undefined,
  ): void {
    const { list, set, codecs, withValue } = run;
    const keyCodec = codecs.key;
    const elem = list.open(NftaList.ELEM);
    const keyNest = list.open(NftaSetElem.KEY);
    const keyAt = list.reserveAttribute(NFTA_DATA_VALUE, keyCodec.length);
    if (typeof key === 'string') writeKeyText(keyCodec, key, list.bytesView, keyAt);
    else writeKey(keyCodec, key, list.bytesView, keyAt);
    list.close(keyNest, NftaSetElem.KEY);
    if (withValue && set.kind === 'map') {
      if (value === undefined || value.length === 0)
        throw new InvalidFieldError(
          `${elementField(set)} ${keyText(key)}`,
          value,
          'a map element needs a value',
        );
      const valueCodec = codecs.value;
      if (valueCodec === 'verdict') {
        const data = list.open(NftaSetElem.DATA);
        list.nestedBytes(NFTA_DATA_VERDICT, this.verdictPayload(value));
        list.close(data, NftaSetElem.DATA);
      } else if (valueCodec) {
        const data = list.open(NftaSetElem.DATA);
        const valueAt = list.reserveAttribute(NFTA_DATA_VALUE, valueCodec.length);
        if (typeof value === 'string') writeKeyText(valueCodec, value, list.bytesView, valueAt);
        else writeKey(valueCodec, value, list.bytesView, valueAt);
        list.close(data, NftaSetElem.DATA);
      }
    } else if (withValue && value !== undefined && value.length > 0) {
      throw new InvalidFieldError(
        `${elementField(set)} ${keyText(key)}`,
        value,
        'set elements take no value',
      );
    }
    if (withValue && timeout !== undefined) {
      if (!(set.flags & NftSetFlag.TIMEOUT))
        throw new InvalidFieldError(
          `${elementField(set)} timeout`,
          timeout,
          'needs a set with the timeout flag',
        );
      list.u64(NftaSetElem.TIMEOUT, parseNftTime(`${elementField(set)} timeout`, timeout));
    }
    if (withValue && comment !== undefined) writeCommentUdata(list, NftaSetElem.USERDATA, set, comment);
    list.close(elem, NftaList.ELEM);
  }

  private rule(verb: NftVerb, rule: NftRule, index: number) {
    const chain = checkName('rule chain', rule.chain);
    const operation = `${verb} rule ${this.ctx.family} ${this.ctx.table} ${chain}${rule.handle !== undefined ? ` handle ${rule.handle}` : ''} ${rule.rule}`;
    const head = () =>
      new AttributeWriter().string(NftaRule.TABLE, this.ctx.table).string(NftaRule.CHAIN, chain);
    const needHandle = () => {
      if (rule.handle === undefined)
        throw new InvalidFieldError(`rule in ${chain}`, rule.rule, `${verb} needs a handle`);
      return rule.handle;
    };
    if (verb === 'delete' || verb === 'destroy') {
      const w = head().u64(NftaRule.HANDLE, needHandle());
      return this.push(verb === 'delete' ? NftMsg.DELRULE : NftMsg.DESTROYRULE, 0, w, operation, index);
    }
    if (verb !== 'add' && verb !== 'insert' && verb !== 'replace')
      throw new InvalidFieldError(`rule in ${chain}`, verb, 'is not a rule operation');
    if (!this.ctx.compileRule)
      throw new InvalidFieldError(
        `rule in ${chain}`,
        rule.rule,
        'cannot be compiled: the client has no rule compiler',
      );
    this.ruleBatch ??= newRuleBatch();
    const compiled = this.ctx.compileRule({
      family: this.ctx.family,
      table: this.ctx.table,
      chain,
      rule: rule.rule,
      sets: this.ctx.sets,
      allocateSet: (kind) => ({ name: kind === 'map' ? '__map%d' : '__set%d', setId: this.nextSetId++ }),
      ...(rule.comment !== undefined ? { comment: rule.comment } : {}),
      batch: this.ruleBatch,
    });
    for (const anonymous of compiled.anonymousSets) this.anonymousSet(anonymous, operation, index);
    const w = head();
    let flags: number;
    if (verb === 'replace') {
      w.u64(NftaRule.HANDLE, needHandle());
      flags = NLM_F_REPLACE;
    } else {
      flags = NLM_F_CREATE | (verb === 'add' ? NLM_F_APPEND : 0);
      if (rule.position !== undefined) w.u64(NftaRule.POSITION, rule.position);
    }
    w.nestedBytes(NftaRule.EXPRESSIONS, compiled.expressions);
    const udata = compiled.userdata ?? commentUdata(`rule in ${chain} comment`, rule.comment);
    if (udata) w.bytes(NftaRule.USERDATA, udata);
    this.push(NftMsg.NEWRULE, flags, w, operation, index);
  }

  /** `{ tcp, udp }` of a rule: an anonymous constant set (or map), created just before the rule. */
  private anonymousSet(set: AnonymousSet, operation: string, index: number): void {
    const field = `anonymous set of ${operation}`;
    const concatenated = set.keyType.split('.').length > 1;
    const isMap = set.valueType !== undefined || (set.flags & NftSetFlag.MAP) !== 0;
    const flags =
      NftSetFlag.ANONYMOUS |
      NftSetFlag.CONSTANT |
      set.flags |
      (set.interval ? NftSetFlag.INTERVAL : 0) |
      (isMap ? NftSetFlag.MAP : 0) |
      (concatenated && set.interval ? NftSetFlag.CONCAT : 0);
    const w = new AttributeWriter()
      .string(NftaSet.TABLE, this.ctx.table)
      .string(NftaSet.NAME, set.name)
      .u32(NftaSet.FLAGS, flags)
      .u32(NftaSet.KEY_TYPE, dataTypeId(set.keyType))
      .u32(NftaSet.KEY_LEN, set.keyLength);
    const udata = new UdataWriter().u32(SetUdata.KEYBYTEORDER, anonymousByteOrder(field, set.keyType));
    if (isMap) {
      const valueType = set.valueType ?? 'verdict';
      if (valueType.trim() === 'verdict') w.u32(NftaSet.DATA_TYPE, NFT_DATA_VERDICT).u32(NftaSet.DATA_LEN, 0);
      else w.u32(NftaSet.DATA_TYPE, dataTypeId(valueType)).u32(NftaSet.DATA_LEN, keyLength(valueType));
      udata.u32(SetUdata.DATABYTEORDER, anonymousByteOrder(field, valueType));
      // nft records a vmap's verdict value as a typeof expression, then DATA_INTERVAL as for named maps.
      if (valueType.trim() === 'verdict')
        udata.nested(SetUdata.DATA_TYPEOF, (t) => t.u32(0, EXPR_VERDICT).put(1, Buffer.alloc(0)));
      udata.u32(SetUdata.DATA_INTERVAL, 0);
    }
    w.nested(NftaSet.DESC, (d) => d.u32(NftaSetDesc.SIZE, set.size));
    w.u32(NftaSet.ID, set.setId);
    w.bytes(NftaSet.USERDATA, udata.toBuffer());
    this.push(NftMsg.NEWSET, NLM_F_CREATE, w, `${operation} (its anonymous ${isMap ? 'map' : 'set'})`, index);
    const ends = new Set(set.intervalEnd ?? []);
    const list = new AttributeWriter();
    set.elements.forEach((key, i) => {
      list.nested(NftaList.ELEM, (e) => {
        e.nested(NftaSetElem.KEY, (k) => k.bytes(1, key));
        const value = set.values?.[i];
        if (value) e.nestedBytes(NftaSetElem.DATA, value);
        if (ends.has(i)) e.u32(NftaSetElem.FLAGS, NFT_SET_ELEM_INTERVAL_END);
        const userdata = set.elementUserdata?.get(i);
        if (userdata) e.bytes(NftaSetElem.USERDATA, userdata);
      });
    });
    const elements = new AttributeWriter()
      .string(NftaSetElemList.TABLE, this.ctx.table)
      .string(NftaSetElemList.SET, set.name)
      .u32(NftaSetElemList.SET_ID, set.setId)
      .nestedBytes(NftaSetElemList.ELEMENTS, list.toBuffer());
    this.push(
      NftMsg.NEWSETELEM,
      NLM_F_CREATE,
      elements,
      `${operation} (its anonymous set's elements)`,
      index,
    );
  }

  get setIdCursor(): number {
    return this.nextSetId;
  }
}

/**
 * Encode a transaction's operations on `ctx.family ctx.table` into one batch buffer (`ctx.batch`
 * or a new one), each message written there once; `ctx.sets` is updated. Elements given as text
 * (`elementTexts`) or packed (`packedElements`), a table's full contents, are added after the
 * operations, in that order; both give the same bytes for the same elements.
 */
export function encodeOperations(
  operations: readonly NftOperation[],
  ctx: EncodeContext,
  elementTexts?: NftElementTextSource,
  packedElements?: NftPackedElementSource,
): { batch: BatchBuffer; nextSetId: number } {
  const encoder = new Encoder(ctx);
  encoder.encode(operations);
  if (elementTexts) encoder.elementTexts(elementTexts, operations.length);
  if (packedElements) encoder.packedElements(packedElements, operations.length);
  return { batch: encoder.batch, nextSetId: encoder.setIdCursor };
}

/**
 * encodeOperations with packed elements given in steps (NftPackedElementSteps): one step of this
 * per step of the source, so a caller can hand the event loop back between them; the batch is
 * the same, byte for byte. Returns what encodeOperations does.
 */
export function* encodeOperationsInSteps(
  operations: readonly NftOperation[],
  ctx: EncodeContext,
  packedElements: NftPackedElementSteps,
): Generator<void, { batch: BatchBuffer; nextSetId: number }> {
  const encoder = new Encoder(ctx);
  encoder.encode(operations);
  yield;
  yield* encoder.packedElementSteps(packedElements, operations.length);
  return { batch: encoder.batch, nextSetId: encoder.setIdCursor };
}

interface ElementCodecs {
  key: KeyCodec;
  value: KeyCodec | 'verdict' | undefined;
}

/** The element messages being written for one run of element operations on one set. */
interface ElementRun {
  readonly verb: NftVerb;
  readonly container: string;
  readonly set: KnownSet;
  readonly msg: number;
  readonly flags: number;
  readonly withValue: boolean;
  readonly codecs: ElementCodecs;
  readonly list: AttributeWriter;
  first: number;
  count: number;
  shownKeys: string[];
}

/** How errors name an element's field: `element of map service-ips`. */
const elementField = (set: KnownSet) => `element of ${set.kind} ${set.name}`;
const keyText = (key: readonly string[] | string) => (typeof key === 'string' ? key : key.join(' . '));

/** packedComment's reading of a tail (one reused object). */
const packedTail: PackedTail = { comment: undefined, timeout: undefined };

/**
 * The comment of a packed rest whose value ends at `end` (its PACKED_END): undefined for none,
 * null when the element has a timeout too (the text path writes those).
 */
function packedComment(rest: string, end: number): string | undefined | null {
  const { comment, timeout } = readPackedTail(rest, end, packedTail);
  return timeout === undefined ? comment : null;
}

/** An element comment's udata blob (commentUdata's bytes) written as attribute `type` in place. */
function writeCommentUdata(w: AttributeWriter, type: number, set: KnownSet, comment: string): void {
  const length = Buffer.byteLength(comment);
  if (length > COMMENT_LENGTH_MAX)
    throw new InvalidFieldError(
      `${elementField(set)} comment`,
      comment,
      `is longer than ${COMMENT_LENGTH_MAX} bytes`,
    );
  const at = w.reserveAttribute(type, length + 3);
  const out = w.bytesView;
  out[at] = UDATA_COMMENT;
  out[at + 1] = length + 1;
  out.write(comment, at + 2, length, 'utf8');
  out[at + 2 + length] = 0;
}

/** KEYBYTEORDER/DATABYTEORDER nft records: the type's byte order, none for concatenations and verdicts. */
function anonymousByteOrder(field: string, type: string): number {
  const parts = type.split('.').map((p) => p.trim());
  if (parts.length !== 1 || parts[0] === 'verdict') return ByteOrder.INVALID;
  const name = parts[0] as string;
  // Types only rules produce (numgen results, ct/meta values) are host-order integers in nft.
  if (HOST_ORDER_RULE_TYPES.has(name)) return ByteOrder.HOST;
  return dataTypeNamed(field, name).byteOrder;
}

const HOST_ORDER_RULE_TYPES = new Set(['integer', 'ct_status', 'ct_dir', 'pkt_type', 'fib_addrtype']);
