import type { V1ConfigMap, V1EndpointSlice, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type DeltaTracker,
  type IndexedStore,
  Informer,
  type InformerObject,
  type KubeListerWatcher,
  type ListerWatcher,
  objectKey,
  type Reflector,
  stripManagedFields,
  type Wire,
} from '../src/index';

// The type-level checks here are enforced by `tsc -b` (this file is in the package's tsconfig):
// an `expectTypeOf` that does not hold is a compile error, and so is a `@ts-expect-error` line
// that compiles (the directive is then unused).

const CREATED = '2026-01-02T03:04:05Z';

/** A pod as the API server's JSON: what every list and watch hands over. */
const podJson = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', resourceVersion: '7', creationTimestamp: CREATED },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx:1' }] },
};

/** One list answer, then a watch that stays open until the informer stops. */
function listing<T extends InformerObject>(items: T[]): ListerWatcher<T> {
  return {
    list: async () => ({ items: structuredClone(items), resourceVersion: '7' }),
    watch: (_options, _onEvent, signal) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
  };
}

describe('InformerObject: an object as a list or watch hands it over', () => {
  it('fits the wire form of the objects the agents watch, and plain JSON', () => {
    expectTypeOf<Wire<V1Pod>>().toExtend<InformerObject>();
    expectTypeOf<Wire<V1Service>>().toExtend<InformerObject>();
    expectTypeOf<Wire<V1EndpointSlice>>().toExtend<InformerObject>();
    expectTypeOf<Wire<V1Node>>().toExtend<InformerObject>();
    expectTypeOf<Wire<V1ConfigMap>>().toExtend<InformerObject>();
    expectTypeOf(podJson).toExtend<InformerObject>();
    expectTypeOf<InformerObject['metadata']>().toExtend<{ creationTimestamp?: string } | undefined>();
  });

  it('refuses client-node model types, whose timestamps are Dates where the JSON has strings', () => {
    expectTypeOf<V1Pod>().not.toExtend<InformerObject>();
    expectTypeOf<V1Service>().not.toExtend<InformerObject>();
    expectTypeOf<V1EndpointSlice>().not.toExtend<InformerObject>();
    expectTypeOf<V1Node>().not.toExtend<InformerObject>();
    expectTypeOf<{ metadata: { deletionTimestamp: Date } }>().not.toExtend<InformerObject>();
  });

  it('makes a model type argument of every generic part a compile error', () => {
    // @ts-expect-error: V1Pod's metadata.creationTimestamp is a Date; the watch delivers a string
    expectTypeOf<Informer<V1Pod>>().toBeObject();
    // @ts-expect-error: likewise V1Service
    expectTypeOf<Informer<V1Service>>().toBeObject();
    // @ts-expect-error: likewise V1EndpointSlice in a store
    expectTypeOf<IndexedStore<V1EndpointSlice>>().toBeObject();
    // @ts-expect-error: likewise V1Node in a delta tracker
    expectTypeOf<DeltaTracker<V1Node>>().toBeObject();
    // @ts-expect-error: likewise the reflector
    expectTypeOf<Reflector<V1Pod>>().toBeObject();
    // @ts-expect-error: likewise the list/watch client
    expectTypeOf<KubeListerWatcher<V1Pod>>().toBeObject();
    // @ts-expect-error: likewise a custom ListerWatcher
    expectTypeOf<ListerWatcher<V1Pod>>().toBeObject();
    // @ts-expect-error: a model object is not what objectKey reads
    expectTypeOf(objectKey).toBeCallableWith({} as V1Pod);
    // @ts-expect-error: nor what the default transform takes
    expectTypeOf(stripManagedFields<V1Pod>).toBeFunction();
    expectTypeOf<Informer<Wire<V1Pod>>>().toBeObject();
  });

  it('hands over creationTimestamp typed and held as the string the JSON carries', async () => {
    const informer = new Informer<Wire<V1Pod>>({ listerWatcher: listing([podJson]) });
    const added: (string | undefined)[] = [];
    informer.onAdd((pod) => {
      expectTypeOf(pod.metadata?.creationTimestamp).toEqualTypeOf<string | undefined>();
      added.push(pod.metadata?.creationTimestamp);
    });
    informer.start();
    await informer.waitForSync();
    const held = informer.get('default/web-1');
    expectTypeOf(held?.metadata?.creationTimestamp).toEqualTypeOf<string | undefined>();
    expect(typeof held?.metadata?.creationTimestamp).toBe('string');
    expect(added).toEqual([CREATED]);
    // What code needing a Date does: parse the string.
    expect(new Date(held?.metadata?.creationTimestamp ?? '').toISOString()).toBe('2026-01-02T03:04:05.000Z');
    await informer.stop();
  });
});
