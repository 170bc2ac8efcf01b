import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Where no prebuilt addon fits, loading the `netlink` package throws like this (node-gyp-build);
// vitest reports a throwing mock factory under its own message, so the test checks the prefix.
const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock('netlink', () => {
  loads.count++;
  throw new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115 libc=musl');
});
// Workers are not isolated: the sources are imported afresh under the mock, and dropped again so
// the worker's next file does not get modules bound to it.
beforeAll(() => {
  vi.resetModules();
});
afterAll(() => {
  vi.resetModules();
});

describe('without the native netlink addon', () => {
  it('importing the package does not load it', async () => {
    const ipvs = await import('../src/index');
    await import('../src/netlink/index');
    await import('../src/testing/index');
    expect(loads.count).toBe(0);
    expect(typeof ipvs.Ipvs.open).toBe('function');
  });

  it('opening a handle rejects with IpvsUnavailableError giving the reason', async () => {
    const { Ipvs, isIpvsUnavailableError } = await import('../src/index');
    const err = await Ipvs.open().catch((e: unknown) => e);
    expect(loads.count).toBeGreaterThan(0);
    expect(isIpvsUnavailableError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'IPVS_UNAVAILABLE',
      reason: expect.stringMatching(/^the native "netlink" addon could not be loaded: \S/),
    });
    expect((err as Error).message).toMatch(/^IPVS is not available to this process: /);
  });

  it('a fake handle still works', async () => {
    const { FakeIpvsHandle } = await import('../src/testing/index');
    const fake = new FakeIpvsHandle();
    await fake.addService({ protocol: 'tcp', address: '10.0.0.1', port: 80, scheduler: 'rr' });
    expect(await fake.listServices()).toHaveLength(1);
  });
});
