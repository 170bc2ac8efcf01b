import { describe, expect, it } from 'vitest';
import { ownedBytes } from '../src/owned-bytes';

describe('ownedBytes', () => {
  it('copies the first bytes into a store of exactly their size, never a shared pool chunk', () => {
    const scratch = Buffer.from([1, 2, 3, 4, 5, 6]);
    const pooled = Buffer.from(scratch.subarray(0, 3));
    const own = ownedBytes(scratch, 3);
    expect([...own]).toEqual([1, 2, 3]);
    expect(own.buffer.byteLength).toBe(3);
    // What the cache did before: a copy in the pool, whose store is a whole chunk.
    expect(pooled.buffer.byteLength).toBe(Buffer.poolSize);
    scratch[0] = 9;
    expect(own[0]).toBe(1);
  });
});
