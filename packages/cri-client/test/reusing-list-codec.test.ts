import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { messageCodec } from '../src/codec';
import type { Container, ListContainersResponse, ListPodSandboxResponse } from '../src/generated/types';
import { reusingListCodec } from '../src/reusing-list-codec';

function container(i: number, state = 1): Record<string, unknown> {
  return {
    id: `c${i}`,
    podSandboxId: `s${i}`,
    metadata: { name: 'app', attempt: 0 },
    image: { image: 'sha256:aa', annotations: {}, userSpecifiedImage: 'busybox' },
    imageRef: 'sha256:aa',
    state,
    createdAt: 1_700_000_000_000_000_000n + BigInt(i),
    labels: { 'io.kubernetes.pod.uid': `uid-${i}`, 'io.kubernetes.container.name': 'app' },
    annotations: { 'io.kubernetes.container.restartCount': '0' },
  };
}

const plain = messageCodec<ListContainersResponse>('ListContainersResponse');
const encode = (items: Record<string, unknown>[]) => plain.encode({ containers: items } as never);

describe('reusingListCodec', () => {
  it('decodes exactly as the plain codec does', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    const bytes = encode([container(1), container(2, 2), container(3)]);
    expect(codec.decode(bytes)).toEqual(plain.decode(bytes));
    expect(codec.decode(encode([]))).toEqual({ containers: [] });
    const sandboxes = messageCodec<ListPodSandboxResponse>('ListPodSandboxResponse');
    const sandboxBytes = sandboxes.encode({
      items: [{ id: 'sb', state: 0, labels: { a: 'b' }, metadata: { name: 'p', uid: 'u', namespace: 'n' } }],
    } as never);
    expect(reusingListCodec('ListPodSandboxResponse').decode(sandboxBytes)).toEqual(
      sandboxes.decode(sandboxBytes),
    );
  });

  it('keeps no hold on an answer once it is decoded (the next relist is a second away)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    let answer: Buffer | undefined = Buffer.from(encode([container(1), container(2)]));
    const held = new WeakRef(answer);
    expect(codec.decode(answer).containers).toHaveLength(2);
    answer = undefined;
    // A WeakRef's target stays until the current job ends: let one pass before collecting.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(held.deref()).toBeUndefined();
  });

  it('hands back the same item for unchanged bytes and a new one for a changed item, in answer order', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    const first = codec.decode(encode([container(1), container(2)])).containers;
    const second = codec.decode(encode([container(2, 2), container(1), container(3)])).containers;
    expect(second.map((c) => [c.id, c.state])).toEqual([
      ['c2', 2],
      ['c1', 1],
      ['c3', 1],
    ]);
    expect(second[1]).toBe(first[0]);
    expect(second[0]).not.toBe(first[1]);
    expect(second[0]).toEqual(plain.decode(encode([container(2, 2)])).containers[0]);
  });

  it('treats an item whose labels and annotations come in another order as unchanged (containerd shuffles Go maps)', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    const shuffled = {
      ...container(1),
      annotations: { 'io.kubernetes.container.restartCount': '0' },
      labels: { 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.uid': 'uid-1' },
    };
    expect(encode([shuffled])).not.toEqual(encode([container(1)]));
    const first = codec.decode(encode([container(1)])).containers[0];
    expect(codec.decode(encode([shuffled])).containers[0]).toBe(first);
    const relabelled = { ...shuffled, labels: { ...shuffled.labels, 'io.kubernetes.pod.uid': 'uid-2' } };
    const changed = codec.decode(encode([relabelled])).containers[0];
    expect(changed).not.toBe(first);
    expect(changed?.labels['io.kubernetes.pod.uid']).toBe('uid-2');
  });

  it('freezes shared items, so a caller cannot change another answer', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    const [item] = codec.decode(encode([container(1)])).containers as Container[];
    expect(() => {
      (item as { state: number }).state = 2;
    }).toThrow(TypeError);
    expect(() => {
      item!.labels.extra = 'x';
    }).toThrow(TypeError);
    expect(codec.decode(encode([container(1)])).containers[0]?.labels).toEqual(container(1).labels);
  });

  it('skips fields it does not know, as the plain decoder does', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    // Field 15, varint 7: what a newer runtime might add to the answer.
    const bytes = Buffer.concat([encode([container(1)]), Buffer.from([0x78, 0x07])]);
    expect(codec.decode(bytes)).toEqual(plain.decode(bytes));
  });

  it('decodes an item again after it went unseen for many answers (the cache is bounded)', () => {
    const codec = reusingListCodec<ListContainersResponse>('ListContainersResponse');
    const first = codec.decode(encode([container(1)])).containers[0];
    for (let i = 0; i < 64; i++) codec.decode(encode([container(2)]));
    const again = codec.decode(encode([container(1)])).containers[0];
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });

  it('refuses a message that is not a single list', () => {
    expect(() => reusingListCodec('VersionResponse')).toThrow(
      /not a message with one repeated message field/,
    );
  });
});
