// Dump replies back into the model: tables, chains, sets and maps with their elements, rules.

import type { NftChain, NftElement, NftFamily, NftMap, NftRule, NftSet } from '../model';
import {
  attributeString,
  attributesByType,
  attributeU32,
  attributeU64,
  type NetlinkAttribute,
  readAttributes,
} from './attributes';
import { hookName, priorityName } from './chain-hooks';
import {
  NFT_DATA_VERDICT,
  NFT_SET_ELEM_INTERVAL_END,
  NftaChain,
  NftaData,
  NftaHook,
  NftaList,
  NftaRule,
  NftaSet,
  NftaSetDesc,
  NftaSetElem,
  NftaSetElemList,
  NftaTable,
  NftaVerdict,
  NftSetFlag,
  Verdict,
} from './constants';
import { decodeParts } from './decode-values';
import type { KnownSet } from './encode';
import { nftMessageParts } from './message';
import { setTypeText } from './set-types';
import { formatNftTime } from './time';
import { readTypeofRecord } from './typeof-udata';
import { readUdata, SetUdata, UDATA_COMMENT, udataString } from './userdata';

function commentOf(udata: NetlinkAttribute | undefined, type = UDATA_COMMENT): string | undefined {
  return udata === undefined ? undefined : udataString(readUdata(udata.payload).get(type));
}

export interface DumpedTable {
  name: string;
  comment?: string;
  handle: bigint;
}

export function decodeTable(body: Buffer): DumpedTable {
  const a = attributesByType(nftMessageParts(body).attributes);
  const name = a.get(NftaTable.NAME);
  const handle = a.get(NftaTable.HANDLE);
  const comment = commentOf(a.get(NftaTable.USERDATA));
  return {
    name: name ? attributeString(name) : '',
    handle: handle ? attributeU64(handle) : 0n,
    ...(comment !== undefined ? { comment } : {}),
  };
}

function signed32(value: number): number {
  return value | 0;
}

export function decodeChain(family: NftFamily, body: Buffer): { table: string; chain: NftChain } {
  const a = attributesByType(nftMessageParts(body).attributes);
  const table = a.get(NftaChain.TABLE);
  const name = a.get(NftaChain.NAME);
  const chain: NftChain = { kind: 'chain', name: name ? attributeString(name) : '' };
  const hook = a.get(NftaChain.HOOK);
  const type = a.get(NftaChain.TYPE);
  if (hook && type) {
    const h = attributesByType(hook.payload);
    const number = h.get(NftaHook.HOOKNUM);
    const priority = h.get(NftaHook.PRIORITY);
    const device = h.get(NftaHook.DEV);
    chain.type = attributeString(type) as NftChain['type'];
    const hookText = number ? hookName(family, attributeU32(number)) : undefined;
    if (hookText) chain.hook = hookText;
    if (priority) chain.priority = priorityName(family, signed32(attributeU32(priority)));
    if (device) chain.device = attributeString(device);
    const policy = a.get(NftaChain.POLICY);
    if (policy) chain.policy = attributeU32(policy) === Verdict.ACCEPT ? 'accept' : 'drop';
  }
  const comment = commentOf(a.get(NftaChain.USERDATA));
  if (comment !== undefined) chain.comment = comment;
  return { table: table ? attributeString(table) : '', chain };
}

export interface DumpedSet {
  table: string;
  set: NftSet | NftMap;
  known: KnownSet;
  anonymous: boolean;
}

/** A set/map read back; `type` is undefined when the declaration uses types this client does not know. */
export function decodeSet(body: Buffer, family: NftFamily): DumpedSet {
  const a = attributesByType(nftMessageParts(body).attributes);
  const table = a.get(NftaSet.TABLE);
  const name = a.get(NftaSet.NAME);
  const flags = attributeU32(a.get(NftaSet.FLAGS) ?? { type: 0, nested: false, payload: Buffer.alloc(4) });
  const keyType = a.get(NftaSet.KEY_TYPE);
  const keyLen = a.get(NftaSet.KEY_LEN);
  const keyLength = keyLen ? attributeU32(keyLen) : 0;
  const type = (keyType ? setTypeText(attributeU32(keyType), keyLength) : undefined) ?? `unknown`;
  const isMap = (flags & NftSetFlag.MAP) !== 0;
  const setFlags: ('constant' | 'dynamic' | 'interval' | 'timeout')[] = [];
  if (flags & NftSetFlag.CONSTANT) setFlags.push('constant');
  if (flags & NftSetFlag.EVAL) setFlags.push('dynamic');
  if (flags & NftSetFlag.INTERVAL) setFlags.push('interval');
  if (flags & NftSetFlag.TIMEOUT) setFlags.push('timeout');
  const base: NftSet = { kind: 'set', name: name ? attributeString(name) : '', type };
  if (setFlags.length > 0) base.flags = setFlags;
  const timeout = a.get(NftaSet.TIMEOUT);
  if (timeout) base.timeout = formatNftTime(Number(attributeU64(timeout)));
  const desc = a.get(NftaSet.DESC);
  if (desc) {
    const size = attributesByType(desc.payload).get(NftaSetDesc.SIZE);
    if (size) base.size = attributeU32(size);
  }
  const userdata = a.get(NftaSet.USERDATA);
  const udata = userdata ? readUdata(userdata.payload) : new Map<number, Buffer>();
  const comment = udataString(udata.get(SetUdata.COMMENT));
  if (comment !== undefined) base.comment = comment;
  let valueType: string | undefined;
  let valueLength: number | undefined;
  if (isMap) {
    const dataType = a.get(NftaSet.DATA_TYPE);
    const dataLen = a.get(NftaSet.DATA_LEN);
    const id = dataType ? attributeU32(dataType) : 0;
    valueLength = dataLen ? attributeU32(dataLen) : 0;
    valueType = id === NFT_DATA_VERDICT ? 'verdict' : (setTypeText(id, valueLength) ?? 'unknown');
  }
  // A typeof declaration: its expressions replace the type names in the model.
  const keyRecord = udata.get(SetUdata.KEY_TYPEOF);
  const keyTypeof = keyRecord ? readTypeofRecord(keyRecord, family) : undefined;
  const valueRecord = udata.get(SetUdata.DATA_TYPEOF);
  const valueTypeof =
    valueRecord && valueType !== 'verdict' ? readTypeofRecord(valueRecord, family) : undefined;
  const modelBase: NftSet = keyTypeof ? { ...base, type: keyTypeof, typeof: true } : base;
  const modelValue = keyTypeof && valueTypeof ? valueTypeof : valueType;
  const set: NftSet | NftMap = isMap
    ? { ...modelBase, kind: 'map', valueType: modelValue as string }
    : modelBase;
  return {
    table: table ? attributeString(table) : '',
    set,
    anonymous: (flags & NftSetFlag.ANONYMOUS) !== 0,
    known: {
      kind: set.kind,
      name: set.name,
      keyType: modelBase.type,
      keyTypeNames: type,
      keyLength,
      flags,
      declaration: set,
      ...(isMap ? { valueType: modelValue, valueTypeNames: valueType, valueLength } : {}),
    },
  };
}

function verdictText(payload: Buffer): string {
  const v = attributesByType(payload);
  const code = v.get(NftaVerdict.CODE);
  const chain = v.get(NftaVerdict.CHAIN);
  const number = code ? signed32(attributeU32(code)) : 0;
  const word =
    number === Verdict.ACCEPT
      ? 'accept'
      : number === Verdict.DROP
        ? 'drop'
        : number === Verdict.JUMP
          ? 'jump'
          : number === Verdict.GOTO
            ? 'goto'
            : number === Verdict.RETURN
              ? 'return'
              : 'continue';
  return chain ? `${word} ${attributeString(chain)}` : word;
}

/** The elements of one GETSETELEM dump reply. */
export function decodeElements(set: KnownSet, body: Buffer): NftElement[] {
  const list = attributesByType(nftMessageParts(body).attributes).get(NftaSetElemList.ELEMENTS);
  if (!list) return [];
  const elements: NftElement[] = [];
  for (const item of readAttributes(list.payload)) {
    if (item.type !== NftaList.ELEM) continue;
    const e = attributesByType(item.payload);
    const key = e.get(NftaSetElem.KEY);
    const keyValue = key ? attributesByType(key.payload).get(NftaData.VALUE) : undefined;
    const element: NftElement = {
      kind: 'element',
      container: set.name,
      key: keyValue ? decodeParts(set.keyTypeNames, keyValue.payload) : [],
    };
    const data = e.get(NftaSetElem.DATA);
    if (data) {
      const d = attributesByType(data.payload);
      const verdict = d.get(NftaData.VERDICT);
      const value = d.get(NftaData.VALUE);
      if (verdict) element.value = [verdictText(verdict.payload)];
      else if (value) element.value = decodeParts(set.valueTypeNames ?? '', value.payload);
    }
    const timeout = e.get(NftaSetElem.TIMEOUT);
    if (timeout) element.timeout = formatNftTime(Number(attributeU64(timeout)));
    const comment = commentOf(e.get(NftaSetElem.USERDATA));
    if (comment !== undefined) element.comment = comment;
    elements.push(element);
  }
  return elements;
}

/** A rule read back: the model's fields plus the kernel's expressions, undecoded. */
export interface NetlinkRule extends NftRule {
  handle: number;
  /** NFTA_RULE_EXPRESSIONS payload as the kernel dumped it. */
  expressions: Buffer;
}

export function decodeRule(body: Buffer): { table: string; rule: NetlinkRule } {
  const a = attributesByType(nftMessageParts(body).attributes);
  const table = a.get(NftaRule.TABLE);
  const chain = a.get(NftaRule.CHAIN);
  const handle = a.get(NftaRule.HANDLE);
  const rule: NetlinkRule = {
    kind: 'rule',
    chain: chain ? attributeString(chain) : '',
    rule: '',
    handle: handle ? Number(attributeU64(handle)) : 0,
    expressions: a.get(NftaRule.EXPRESSIONS)?.payload ?? Buffer.alloc(0),
  };
  const comment = commentOf(a.get(NftaRule.USERDATA));
  if (comment !== undefined) rule.comment = comment;
  return { table: table ? attributeString(table) : '', rule };
}

/** An anonymous set's elements as the kernel holds them: keys, interval ends, map values (NFTA_SET_ELEM_DATA payloads). */
export function rawElements(
  set: KnownSet,
  bodies: readonly Buffer[],
): { keyType: string; elements: Buffer[]; intervalEnd: number[]; values?: Buffer[]; valueType?: string } {
  const elements: Buffer[] = [];
  const intervalEnd: number[] = [];
  const values: Buffer[] = [];
  for (const body of bodies) {
    const list = attributesByType(nftMessageParts(body).attributes).get(NftaSetElemList.ELEMENTS);
    if (!list) continue;
    for (const item of readAttributes(list.payload)) {
      if (item.type !== NftaList.ELEM) continue;
      const e = attributesByType(item.payload);
      const key = e.get(NftaSetElem.KEY);
      const keyValue = key ? attributesByType(key.payload).get(NftaData.VALUE) : undefined;
      const flags = e.get(NftaSetElem.FLAGS);
      if (flags && attributeU32(flags) & NFT_SET_ELEM_INTERVAL_END) intervalEnd.push(elements.length);
      const data = e.get(NftaSetElem.DATA);
      if (data) values.push(Buffer.from(data.payload));
      elements.push(keyValue ? Buffer.from(keyValue.payload) : Buffer.alloc(0));
    }
  }
  return {
    keyType: set.keyTypeNames,
    elements,
    intervalEnd,
    ...(set.kind === 'map' ? { values, valueType: set.valueTypeNames ?? 'verdict' } : {}),
  };
}
