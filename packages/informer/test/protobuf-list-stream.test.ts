import { describe, expect, it } from 'vitest';
import { ProtobufDecodeError } from '../src/protobuf/errors';
import { decodeList } from '../src/protobuf/list';
import { ListStreamReader } from '../src/protobuf/list-stream';
import { DECODE_ALL } from '../src/protobuf/omit';
import { encode, envelope, holdingOne, T } from './protobuf-fixtures';

const body = envelope(
  'discovery.k8s.io/v1',
  'EndpointSliceList',
  encode(T.sliceList, {
    metadata: { resourceVersion: '77', continue: 'next', remainingItemCount: 3 },
    items: [
      {
        metadata: { name: 'a', namespace: 'ns' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
      },
      { metadata: { name: 'ü' }, addressType: 'IPv6' },
      { metadata: { name: 'c', labels: { k: 'v'.repeat(300) } }, addressType: 'FQDN' },
    ],
  }),
);

/** The body fed as the chunks `cuts` make, through the streaming reader. */
function stream(bytes: Buffer, cuts: number[]) {
  const reader = new ListStreamReader<Record<string, unknown>>(DECODE_ALL, (item) => item);
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    reader.push(bytes.subarray(from, at));
    from = at;
  }
  return reader.end();
}

describe('ListStreamReader', () => {
  const whole = decodeList<Record<string, unknown>>(body, DECODE_ALL, (item) => item);

  it('decodes the same list as the whole-body decoder, split at every byte (and twice)', () => {
    expect(whole.items).toHaveLength(3);
    expect(whole.metadata).toStrictEqual({ resourceVersion: '77', continue: 'next', remainingItemCount: 3 });
    for (let cut = 0; cut <= body.length; cut++) {
      expect(stream(body, [cut]), `cut at ${cut}`).toStrictEqual(whole);
      expect(stream(body, [cut, Math.min(body.length, cut + 7)]), `cuts at ${cut}, +7`).toStrictEqual(whole);
    }
  });

  it('reads a body fed one byte at a time; hands each item to `each` as it completes', () => {
    const seen: string[] = [];
    const reader = new ListStreamReader<{ metadata: { name: string } }>(DECODE_ALL, (item) => {
      seen.push(item.metadata.name);
      return item;
    });
    for (let i = 0; i < body.length; i++) {
      reader.push(body.subarray(i, i + 1));
      if (i === Math.floor(body.length / 2)) expect(seen.length).toBeGreaterThan(0);
    }
    expect(reader.end().items.map((i) => i.metadata.name)).toEqual(['a', 'ü', 'c']);
  });

  it('an item held at its resourceVersion is the held one: its message unread past the metadata, not passed to `each`', () => {
    const { held, asked, store } = holdingOne('a', '5');
    const slice = (name: string, rv: string) =>
      encode(T.slice, {
        metadata: { name, namespace: 'ns', resourceVersion: rv },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
      });
    // After `a`'s metadata, bytes no decoder accepts: a held item is not read that far.
    const garbled = Buffer.concat([slice('a', '5'), Buffer.from([0x12, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])]);
    // One entry of the list's `items` (field 2, length-delimited; every item here is under 128 bytes).
    const item = (bytes: Buffer) => Buffer.concat([Buffer.from([0x12, bytes.length]), bytes]);
    const list = envelope(
      'discovery.k8s.io/v1',
      'EndpointSliceList',
      Buffer.concat([
        encode(T.sliceList, { metadata: { resourceVersion: '9' } }),
        item(garbled),
        item(slice('b', '6')),
      ]),
    );
    const eached: string[] = [];
    const reader = new ListStreamReader<{ metadata: { name: string } }>(
      DECODE_ALL,
      (item) => {
        eached.push(item.metadata.name);
        return item;
      },
      store,
    );
    for (let i = 0; i < list.length; i += 7) reader.push(list.subarray(i, i + 7));
    const items = reader.end().items;
    expect(items[0]).toBe(held);
    expect(items[1]).toMatchObject({ metadata: { name: 'b', resourceVersion: '6' }, addressType: 'IPv4' });
    expect(eached).toEqual(['b']);
    expect(asked).toEqual(['ns/a@5', 'ns/b@6']);
  });

  it('a body cut short, a wrong magic or a list kind it does not decode is a ProtobufDecodeError', () => {
    for (const cut of [2, 10, body.length - 1]) {
      expect(() => stream(body.subarray(0, cut), [])).toThrow(ProtobufDecodeError);
    }
    const pods = envelope('v1', 'PodList', encode(T.serviceList, {}));
    expect(() => stream(pods, [])).toThrow(/PodList/);
    expect(() => stream(Buffer.from('{"kind":"List"}'), [])).toThrow(/k8s/);
  });
});
