import type { V1ConfigMap } from '@kubernetes/client-node';
import { startApiServer } from '@nodeagent/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Informer, type Wire } from '../src/index';
import { eventually } from './helpers';

type Op =
  | { kind: 'create'; name: string; keep: boolean }
  | { kind: 'update'; name: string; keep: boolean }
  | { kind: 'delete'; name: string }
  | { kind: 'drop' }
  | { kind: 'fail'; n: number; code: 500 | 429 | 503 }
  | { kind: 'compact' }
  | { kind: 'stall' }
  | { kind: 'latency'; ms: number }
  | { kind: 'pause'; ms: number };

const names = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('create' as const), name: names, keep: fc.boolean() }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('update' as const), name: names, keep: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), name: names }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'drop' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fail' as const),
      n: fc.integer({ min: 1, max: 3 }),
      code: fc.constantFrom(500 as const, 429 as const, 503 as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stall' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('latency' as const), ms: fc.integer({ min: 0, max: 15 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  },
);

describe('reflector under random operations and faults (property)', () => {
  it('converges to the server state and never loses, duplicates or reorders an event', async () => {
    // Totals over all runs, to show the faults really hit the reflector.
    const totals = { expired: 0, errors: 0, watches: 0, lists: 0, streamedLists: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 5, maxLength: 30 }),
        fc.boolean(),
        fc.boolean(),
        async (ops, selective, streaming) => {
          const server = await startApiServer({ historyWindow: 20, bookmarkIntervalMs: 40 });
          const cms = server.resource('v1', 'configmaps');
          const ns = 'kube-public';
          // Every resourceVersion the server gave each object, in commit order.
          const serverRvs = new Map<string, string[]>();
          const unsubscribe = server.store.subscribe((e) => {
            if (e.resource !== '/configmaps' || e.object.metadata.namespace !== ns) return;
            const key = `${ns}/${e.object.metadata.name}`;
            serverRvs.set(key, [...(serverRvs.get(key) ?? []), String(e.object.metadata.resourceVersion)]);
          });
          const inf = new Informer<Wire<V1ConfigMap>>({
            kubeConfig: server.kubeConfig(),
            resource: { apiVersion: 'v1', plural: 'configmaps', namespace: ns },
            ...(selective ? { labelSelector: 'keep=yes' } : {}),
            // The initial state (and each relist) from a watch-list stream, or in LIST pages of 2.
            watchList: streaming,
            pageSize: 2,
            inactivityTimeoutMs: 150,
            backoff: { initialMs: 2, maxMs: 20 },
          });
          // The handler stream replayed from scratch (checked for consistency as it arrives).
          const shadow = new Map<string, string>();
          const seen = new Map<string, string[]>();
          const violations: string[] = [];
          const note = (key: string, rv: string) => seen.set(key, [...(seen.get(key) ?? []), rv]);
          const rvOf = (o: Wire<V1ConfigMap>) => String(o.metadata?.resourceVersion);
          const keyOf = (o: Wire<V1ConfigMap>) => `${o.metadata?.namespace}/${o.metadata?.name}`;
          inf.onAdd((o) => {
            if (shadow.has(keyOf(o))) violations.push(`add of present ${keyOf(o)}`);
            shadow.set(keyOf(o), rvOf(o));
            note(keyOf(o), rvOf(o));
          });
          inf.onUpdate((old, cur) => {
            if (shadow.get(keyOf(old)) !== rvOf(old))
              violations.push(`update from unseen state of ${keyOf(old)}`);
            if (Number(rvOf(cur)) <= Number(rvOf(old)))
              violations.push(`update went back in time for ${keyOf(cur)}`);
            shadow.set(keyOf(cur), rvOf(cur));
            note(keyOf(cur), rvOf(cur));
          });
          inf.onDelete((o) => {
            const known = shadow.get(keyOf(o));
            if (known === undefined) violations.push(`delete of absent ${keyOf(o)}`);
            else if (Number(rvOf(o)) < Number(known))
              violations.push(`delete older than known state of ${keyOf(o)}`);
            // A watched deletion carries the deletion's resourceVersion; a relisted one the last known.
            if (rvOf(o) !== known) note(keyOf(o), rvOf(o));
            shadow.delete(keyOf(o));
          });
          inf.start();
          try {
            await inf.waitForSync();
            for (const o of ops) {
              const existing = 'name' in o ? server.registry.find(cms, ns, o.name) : undefined;
              switch (o.kind) {
                case 'create':
                  if (!existing)
                    server.registry.create(cms, ns, {
                      metadata: { name: o.name, labels: { keep: o.keep ? 'yes' : 'no' } },
                    });
                  break;
                case 'update':
                  if (existing) {
                    server.registry.update(cms, ns, o.name, {
                      ...existing,
                      metadata: { ...existing.metadata, labels: { keep: o.keep ? 'yes' : 'no' } },
                      data: { n: String(Number((existing.data as { n?: string } | undefined)?.n ?? 0) + 1) },
                    });
                  }
                  break;
                case 'delete':
                  if (existing) server.registry.delete(cms, ns, o.name);
                  break;
                case 'drop':
                  server.faults.dropWatches();
                  break;
                case 'fail':
                  server.faults.failNext(o.n, o.code);
                  break;
                case 'compact':
                  server.faults.compactHistory();
                  break;
                case 'stall':
                  server.faults.stallWatches();
                  break;
                case 'pause':
                  await new Promise((r) => setTimeout(r, o.ms));
                  break;
              }
            }
            const expected = new Map<string, string>();
            for (const c of server.registry.list(cms, ns)) {
              if (!selective || c.metadata.labels?.keep === 'yes')
                expected.set(`${ns}/${c.metadata.name}`, String(c.metadata.resourceVersion));
            }
            const storeState = () => new Map(inf.list().map((o) => [keyOf(o), rvOf(o)]));
            await eventually(() => expect(storeState()).toEqual(expected), 10_000);
            expect(shadow).toEqual(expected);
            expect(violations).toEqual([]);
            for (const [key, rvs] of seen) {
              const committed = serverRvs.get(key) ?? [];
              // Each observed version is a real one, seen once, in commit order.
              expect(new Set(rvs).size).toBe(rvs.length);
              const positions = rvs.map((rv) => committed.indexOf(rv));
              expect(positions.every((p) => p >= 0)).toBe(true);
              expect([...positions].sort((x, y) => x - y)).toEqual(positions);
              // Without a relist and without a selector, nothing in between may be skipped.
              if (inf.stats.expired === 0 && !selective) {
                const first = positions[0] ?? 0;
                const lastSeen = positions[positions.length - 1] ?? 0;
                expect(positions).toEqual(committed.slice(first, lastSeen + 1).map((_, i) => first + i));
              }
            }
          } finally {
            totals.expired += inf.stats.expired;
            totals.errors += inf.stats.errors;
            totals.watches += inf.stats.watches;
            totals.lists += inf.stats.lists;
            totals.streamedLists += inf.stats.streamedLists;
            unsubscribe();
            await inf.stop();
            await server.close();
          }
        },
      ),
      { numRuns: 50 },
    );
    expect(totals.expired).toBeGreaterThan(0);
    expect(totals.errors).toBeGreaterThan(0);
    expect(totals.lists).toBeGreaterThan(50);
    // Both ways of reading the state ran: streams, and LISTs (watchList off, or fallbacks).
    expect(totals.streamedLists).toBeGreaterThan(10);
    expect(totals.lists - totals.streamedLists).toBeGreaterThan(10);
    expect(totals.watches).toBeGreaterThan(50);
  }, 120_000);
});
