import { FakeClock } from '@nodeagent/primitives';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoundRobinBalancer } from '../../src/userspace/round-robin-balancer';

const ep = (ip: string) => ({ ip, port: 8080, endpoint: `${ip}:8080` });
const A = ep('10.0.0.1');
const B = ep('10.0.0.2');
const C = ep('10.0.0.3');

describe('RoundRobinBalancer', () => {
  it('rotates through the endpoints in order', () => {
    const lb = new RoundRobinBalancer(new FakeClock());
    lb.setEndpoints([A, B, C]);
    const picks = Array.from({ length: 6 }, () => lb.pick('1.1.1.1')?.endpoint);
    expect(picks).toEqual([A, B, C, A, B, C].map((e) => e.endpoint));
  });

  it('returns undefined without endpoints or when all are excluded', () => {
    const lb = new RoundRobinBalancer(new FakeClock());
    expect(lb.pick('1.1.1.1')).toBeUndefined();
    lb.setEndpoints([A, B]);
    expect(lb.pick('1.1.1.1', new Set([A.endpoint, B.endpoint]))).toBeUndefined();
  });

  it('skips excluded endpoints without losing its place', () => {
    const lb = new RoundRobinBalancer(new FakeClock());
    lb.setEndpoints([A, B, C]);
    expect(lb.pick('x', new Set([A.endpoint]))?.endpoint).toBe(B.endpoint);
    expect(lb.pick('x')?.endpoint).toBe(C.endpoint);
    expect(lb.pick('x')?.endpoint).toBe(A.endpoint);
  });

  it('keeps its rotation when a resync brings the same endpoints', () => {
    const lb = new RoundRobinBalancer(new FakeClock());
    lb.setEndpoints([A, B, C]);
    lb.pick('x');
    lb.setEndpoints([A, B, C]);
    expect(lb.pick('x')?.endpoint).toBe(B.endpoint);
  });

  it('sticks a client to its endpoint until the affinity timeout passes', () => {
    const clock = new FakeClock(1_000_000);
    const lb = new RoundRobinBalancer(clock, 10);
    lb.setEndpoints([A, B, C]);
    const first = lb.pick('192.0.2.1')!.endpoint;
    const other = lb.pick('192.0.2.2')!.endpoint;
    expect(other).not.toBe(first);
    for (let i = 0; i < 5; i++) {
      clock.advance(9_000); // each use refreshes the timestamp
      expect(lb.pick('192.0.2.1')?.endpoint).toBe(first);
    }
    clock.advance(10_000);
    // Expired: the client takes the next endpoint in rotation, which is not its old one here.
    expect(lb.pick('192.0.2.1')?.endpoint).not.toBe(first);
  });

  it('moves an affine client when its endpoint leaves or refuses', () => {
    const lb = new RoundRobinBalancer(new FakeClock(), 100);
    lb.setEndpoints([A, B]);
    expect(lb.pick('c')?.endpoint).toBe(A.endpoint);
    lb.setEndpoints([B, C]);
    expect(lb.pick('c')?.endpoint).not.toBe(A.endpoint);
    const now = lb.pick('c')!.endpoint;
    expect(lb.pick('c', new Set([now]))?.endpoint).not.toBe(now);
  });

  it('expireAffinity forgets old clients', () => {
    const clock = new FakeClock();
    const lb = new RoundRobinBalancer(clock, 1);
    lb.setEndpoints([A, B]);
    expect(lb.pick('c')?.endpoint).toBe(A.endpoint);
    clock.advance(2000);
    lb.expireAffinity();
    expect(lb.pick('c')?.endpoint).toBe(B.endpoint);
  });

  it('spreads picks evenly whatever the exclusions (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 50 }),
        fc.array(fc.nat(7)),
        (n, k, skipped) => {
          const eps = Array.from({ length: n }, (_, i) => ep(`10.1.0.${i + 1}`));
          const lb = new RoundRobinBalancer(new FakeClock());
          lb.setEndpoints(eps);
          const counts = new Map<string, number>();
          for (let i = 0; i < k; i++) {
            // Occasionally one endpoint refuses; the pick must avoid it and still exist if others do.
            const exclude = new Set(i < skipped.length && n > 1 ? [eps[skipped[i]! % n]!.endpoint] : []);
            const got = lb.pick('c', exclude);
            expect(got).toBeDefined();
            expect(exclude.has(got!.endpoint)).toBe(false);
            counts.set(got!.endpoint, (counts.get(got!.endpoint) ?? 0) + 1);
          }
          if (skipped.length === 0 && k > 0) {
            const values = eps.map((e) => counts.get(e.endpoint) ?? 0);
            expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });
});
