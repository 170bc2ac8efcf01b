import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { DesiredStateOfWorld } from '../src/pluginmanager/desired-state';
import {
  INITIAL_RETRY_DELAY_MS,
  MAX_RETRY_DELAY_MS,
  PendingOperations,
} from '../src/pluginmanager/pending-operations';

const settle = () => new Promise((r) => setImmediate(r));

describe('plugin operations', () => {
  it("run one at a time per socket and back off after a failure as upstream's goroutinemap: 500 ms, doubling, at most 2 min 2 s", async () => {
    const clock = new FakeClock();
    const ops = new PendingOperations(() => clock.now());
    let release: (() => void) | undefined;
    const errors: unknown[] = [];
    expect(
      ops.run(
        's',
        () => new Promise<void>((r) => (release = r)),
        (e) => errors.push(e),
      ),
    ).toBe(true);
    expect(
      ops.run(
        's',
        async () => {},
        (e) => errors.push(e),
      ),
    ).toBe(false);
    expect(ops.busy).toBe(true);
    release?.();
    await settle();
    expect(ops.busy).toBe(false);

    const fail = async () => {
      throw new Error('no');
    };
    // How long after each failure the next try is let through.
    const waits: number[] = [];
    expect(ops.run('t', fail, (e) => errors.push(e))).toBe(true);
    await settle();
    for (let round = 0; round < 3; round++) {
      const failedAt = clock.now();
      while (!ops.run('t', fail, (e) => errors.push(e))) clock.advance(100);
      waits.push(clock.now() - failedAt);
      await settle();
    }
    expect(waits).toEqual([INITIAL_RETRY_DELAY_MS, 2 * INITIAL_RETRY_DELAY_MS, 4 * INITIAL_RETRY_DELAY_MS]);
    expect(errors).toHaveLength(4);
    expect(MAX_RETRY_DELAY_MS).toBe(122_000);
  });

  it('stamp a socket created again within one clock tick with a newer timestamp', () => {
    const clock = new FakeClock();
    const dsw = new DesiredStateOfWorld(() => clock.now());
    dsw.addOrUpdatePlugin('/r/a.sock');
    const first = dsw.pluginsToRegister()[0]?.timestamp ?? 0;
    dsw.addOrUpdatePlugin('/r/a.sock');
    expect(dsw.pluginsToRegister()[0]?.timestamp).toBeGreaterThan(first);
    dsw.removePlugin('/r/a.sock');
    expect(dsw.pluginExists('/r/a.sock')).toBe(false);
  });
});
