import { describe, expect, it } from 'vitest';
import { type InvalidFieldError, ObjectReferenceError } from '../src/errors';
import {
  AttributeWriter,
  attributeString,
  attributesByType,
  attributeU32,
  attributeU64,
  readAttributes,
} from '../src/nftables/netlink/attributes';
import {
  NftaChain,
  NftaHook,
  NftaRule,
  NftaSet,
  NftaSetElemList,
  NftMsg,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REPLACE,
} from '../src/nftables/netlink/constants';
import { type EncodeContext, encodeOperations, type KnownSet } from '../src/nftables/netlink/encode';
import { compileRule } from '../src/nftables/netlink/rule/index';
import { NftTransaction } from '../src/nftables/transaction';

function context(sets: Map<string, KnownSet> = new Map()): EncodeContext {
  return { family: 'ip', table: 'kube-proxy', sets, compileRule };
}

function encode(tx: NftTransaction, ctx = context()) {
  return encodeOperations(tx.operations, ctx).batch.items();
}

const attrs = (attributes: Buffer) => attributesByType(attributes);

describe('netlink encoding of transactions', () => {
  it('an element-list writer kept across batches gives the same bytes and leaves earlier messages as they were', () => {
    const map = { kind: 'map', name: 'm', type: 'ipv4_addr . inet_service', valueType: 'ipv4_addr' } as const;
    const batch = (n: number) => {
      const tx = new NftTransaction().add(map);
      for (let i = 0; i < n; i++)
        tx.add({
          kind: 'element',
          container: 'm',
          key: [`10.0.${i >> 8}.${i & 255}`, '80'],
          value: ['10.1.0.1'],
        });
      return tx;
    };
    const hex = (items: { attributes: Buffer }[]) => items.map((i) => i.attributes.toString('hex'));
    const shared = new AttributeWriter(16);
    // A large batch (several messages, the writer grows), then a small one into the same writer.
    const large = encodeOperations(batch(5000).operations, {
      ...context(),
      elementList: shared,
    }).batch.items();
    const largeBytes = hex(large);
    const small = encodeOperations(batch(2).operations, { ...context(), elementList: shared }).batch.items();
    expect(large.length).toBeGreaterThan(3);
    expect(hex(large)).toEqual(largeBytes);
    expect(largeBytes).toEqual(hex(encode(batch(5000))));
    expect(hex(small)).toEqual(hex(encode(batch(2))));
  });

  it('add asks for CREATE, create for CREATE|EXCL; delete/destroy/flush pick their messages', () => {
    const items = encode(
      new NftTransaction()
        .add({ kind: 'table' })
        .create({ kind: 'chain', name: 'a' })
        .flush({ kind: 'chain', name: 'a' })
        .delete({ kind: 'chain', name: 'a' })
        .destroy({ kind: 'chain', name: 'b' })
        .destroy({ kind: 'table' }),
    );
    expect(items.map((i) => [i.type & 0xff, i.flags])).toEqual([
      [NftMsg.NEWTABLE, NLM_F_CREATE],
      [NftMsg.NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL],
      [NftMsg.DELRULE, 0],
      [NftMsg.DELCHAIN, 0],
      [NftMsg.DESTROYCHAIN, 0],
      [NftMsg.DESTROYTABLE, 0],
    ]);
    expect(items.every((i) => i.type >> 8 === 10 && i.family === 2)).toBe(true);
    expect(items.map((i) => i.operation)).toEqual([
      'add table ip kube-proxy',
      'create chain ip kube-proxy a',
      'flush chain ip kube-proxy a',
      'delete chain ip kube-proxy a',
      'destroy chain ip kube-proxy b',
      'destroy table ip kube-proxy',
    ]);
  });

  it('a base chain carries type, policy and a hook nest with the number for a priority name', () => {
    const [item] = encode(
      new NftTransaction().add({
        kind: 'chain',
        name: 'pre',
        type: 'filter',
        hook: 'prerouting',
        priority: 'dstnat - 10',
        policy: 'drop',
      }),
    );
    const a = attrs(item!.attributes);
    expect(attributeString(a.get(NftaChain.TYPE)!)).toBe('filter');
    expect(attributeU32(a.get(NftaChain.POLICY)!)).toBe(0);
    const hook = attrs(a.get(NftaChain.HOOK)!.payload);
    expect(attributeU32(hook.get(NftaHook.HOOKNUM)!)).toBe(0);
    expect(attributeU32(hook.get(NftaHook.PRIORITY)!) | 0).toBe(-110);
  });

  it('rules: add appends, insert prepends, position and replace use handles', () => {
    const items = encode(
      new NftTransaction()
        .add({ kind: 'rule', chain: 'c', rule: 'accept' })
        .insert({ kind: 'rule', chain: 'c', rule: 'drop', position: 7 })
        .replace({ kind: 'rule', chain: 'c', rule: 'accept', handle: 9, comment: 'x' })
        .delete({ kind: 'rule', chain: 'c', rule: '', handle: 9 }),
    );
    expect(items.map((i) => [i.type & 0xff, i.flags])).toEqual([
      [NftMsg.NEWRULE, NLM_F_CREATE | NLM_F_APPEND],
      [NftMsg.NEWRULE, NLM_F_CREATE],
      [NftMsg.NEWRULE, NLM_F_REPLACE],
      [NftMsg.DELRULE, 0],
    ]);
    expect(attributeU64(attrs(items[1]!.attributes).get(NftaRule.POSITION)!)).toBe(7n);
    expect(attributeU64(attrs(items[2]!.attributes).get(NftaRule.HANDLE)!)).toBe(9n);
    expect(attrs(items[2]!.attributes).get(NftaRule.USERDATA)?.payload.toString()).toBe(
      '\u0000\u0002x\u0000',
    );
  });

  it('a rule with an anonymous set creates the set and its elements first, with a batch-local id', () => {
    const items = encode(
      new NftTransaction().add({ kind: 'rule', chain: 'c', rule: 'meta l4proto { tcp, udp } accept' }),
    );
    expect(items.map((i) => i.type & 0xff)).toEqual([NftMsg.NEWSET, NftMsg.NEWSETELEM, NftMsg.NEWRULE]);
    const set = attrs(items[0]!.attributes);
    expect(attributeString(set.get(NftaSet.NAME)!)).toBe('__set%d');
    expect(attributeU32(set.get(NftaSet.FLAGS)!)).toBe(0x3);
    const id = attributeU32(set.get(NftaSet.ID)!);
    expect(attributeU32(attrs(items[1]!.attributes).get(NftaSetElemList.SET_ID)!)).toBe(id);
  });

  it('merges a run of element operations on one set into one message, split under the attribute size limit', () => {
    const tx = new NftTransaction().add({ kind: 'set', name: 'ips', type: 'ipv4_addr' });
    for (let i = 0; i < 5000; i++)
      tx.add({ kind: 'element', container: 'ips', key: [`10.0.${i >> 8}.${i & 255}`] });
    tx.add({ kind: 'chain', name: 'between' });
    tx.delete({ kind: 'element', container: 'ips', key: ['10.0.0.1'] });
    const items = encode(tx);
    const adds = items.filter((i) => (i.type & 0xff) === NftMsg.NEWSETELEM);
    expect(adds.length).toBeGreaterThan(1);
    expect(adds.every((i) => i.attributes.length < 65_535)).toBe(true);
    const total = adds.reduce(
      (n, i) => n + readAttributes(attrs(i.attributes).get(NftaSetElemList.ELEMENTS)!.payload).length,
      0,
    );
    expect(total).toBe(5000);
    expect(adds[0]!.index).toBe(1);
    expect(adds[0]!.operation).toMatch(
      /^add element ip kube-proxy ips \{ 10\.0\.0\.0, 10\.0\.0\.1, 10\.0\.0\.2, … \(\d+\) \}$/,
    );
    // The set was declared in the batch: its elements name it by batch id too.
    expect(attrs(adds[0]!.attributes).has(NftaSetElemList.SET_ID)).toBe(true);
    expect(items.at(-1)!.type & 0xff).toBe(NftMsg.DELSETELEM);
  });

  it('rejects what neither nft nor the kernel would take, with typed errors naming the field', () => {
    const bad: [NftTransaction, RegExp | typeof InvalidFieldError | typeof ObjectReferenceError][] = [
      [
        new NftTransaction().add({ kind: 'chain', name: 'has space' }),
        /chain name: "has space" is not a valid nftables name/,
      ],
      [
        new NftTransaction().add({ kind: 'chain', name: 'x', type: 'nat', hook: 'prerouting' }),
        /needs type, hook and priority/,
      ],
      [
        new NftTransaction().add({
          kind: 'chain',
          name: 'x',
          type: 'nat',
          hook: 'output',
          priority: 'dstnat',
        }),
        /only valid on the prerouting hook/,
      ],
      [
        new NftTransaction().add({
          kind: 'chain',
          name: 'x',
          type: 'nat',
          hook: 'sideways' as never,
          priority: 0,
        }),
        /not a hook/,
      ],
      [
        new NftTransaction().add({ kind: 'set', name: 's', type: 'ct mark', typeof: true }),
        /cannot describe/,
      ],
      [new NftTransaction().add({ kind: 'set', name: 's', type: 'no_such_type' }), /is not a data type/],
      [
        new NftTransaction().add({ kind: 'element', container: 'missing', key: ['1.2.3.4'] }),
        ObjectReferenceError,
      ],
      [
        new NftTransaction()
          .add({ kind: 'set', name: 's', type: 'ipv4_addr' })
          .add({ kind: 'element', container: 's', key: ['1.2.3.4'], timeout: '1m' }),
        /needs a set with the timeout flag/,
      ],
      [
        new NftTransaction()
          .add({ kind: 'set', name: 's', type: 'ipv4_addr' })
          .add({ kind: 'element', container: 's', key: ['1.2.3.4'], value: ['accept'] }),
        /set elements take no value/,
      ],
      [
        new NftTransaction()
          .add({ kind: 'map', name: 'm', type: 'ipv4_addr', valueType: 'verdict' })
          .add({ kind: 'element', container: 'm', key: ['1.2.3.4'] }),
        /a map element needs a value/,
      ],
      [
        new NftTransaction().add({ kind: 'set', name: 's', type: 'ipv4_addr', timeout: 'soon' }),
        /is not an nft time/,
      ],
      [new NftTransaction().replace({ kind: 'rule', chain: 'c', rule: 'accept' }), /replace needs a handle/],
      [new NftTransaction().add({ kind: 'table', comment: 'x'.repeat(200) }), /longer than 128 bytes/],
    ];
    for (const [tx, expected] of bad) expect(() => encode(tx)).toThrow(expected as never);
  });
});
