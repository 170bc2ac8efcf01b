import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FakeClock, goListenError, goPathError, keepTrying, systemReason } from '../src/index';

/** Lets the attempt's promise chain settle (no timers involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('keepTrying (upstream wait.Until around a start)', () => {
  it('tries now, again one interval after each failure, and stops trying once one succeeds', async () => {
    const clock = new FakeClock(0);
    const attempts: number[] = [];
    const errors: string[] = [];
    const tries = keepTrying(
      async () => {
        attempts.push(clock.now());
        if (attempts.length < 3) throw new Error(`taken ${attempts.length}`);
        return 'server';
      },
      { intervalMs: 5000, onError: (e) => errors.push((e as Error).message), clock },
    );
    await settle();
    expect(attempts).toEqual([0]);
    clock.advance(4999);
    await settle();
    expect(attempts).toEqual([0]);
    clock.advance(1);
    await settle();
    clock.advance(5000);
    await settle();
    expect(attempts).toEqual([0, 5000, 10000]);
    expect(errors).toEqual(['taken 1', 'taken 2']);
    expect(clock.pendingTimers()).toBe(0);
    expect(await tries.stop()).toBe('server');
  });

  it('stop() ends the attempts: no timer left, no error reported after it, nothing started', async () => {
    const clock = new FakeClock(0);
    const errors: unknown[] = [];
    let attempts = 0;
    const tries = keepTrying(
      async () => {
        attempts++;
        throw new Error('taken');
      },
      { intervalMs: 5000, onError: (e) => errors.push(e), clock },
    );
    await settle();
    expect(await tries.stop()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(60_000);
    await settle();
    expect(attempts).toBe(1);
    expect(errors).toHaveLength(1);
  });
});

describe("the system's words, as upstream prints them", () => {
  it('names a taken port as Go does, from the real EADDRINUSE', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const second = createServer();
    const error = await new Promise<unknown>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    holder.close();
    expect(systemReason(error)).toBe('address already in use');
    expect(goListenError(error, '127.0.0.1', port)).toBe(
      `listen tcp 127.0.0.1:${port}: bind: address already in use`,
    );
    expect(goListenError(error, '::1', port)).toBe(`listen tcp [::1]:${port}: bind: address already in use`);
  });

  it('gives a file error as call, path and reason, and anything else by its first line', () => {
    const enotdir = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/x/pki'"), {
      errno: -20,
      syscall: 'mkdir',
      path: '/x/pki',
    });
    expect(goPathError(enotdir)).toBe('mkdir /x/pki: not a directory');
    expect(systemReason(new Error("EACCES: permission denied, open '/y'"))).toBe('permission denied');
    expect(systemReason(new Error('something odd\n    at here'))).toBe('something odd');
    expect(goPathError('plain')).toBe('plain');
  });
});
