import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Where no prebuilt addon fits (musl, macOS, another arch, a bundle without it), loading the
// `netlink` package throws; importing kube-proxy must not, and the first netlink use must fail
// with a typed error naming the reason.
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

describe('kube-proxy without the native netlink addon', () => {
  it('importing the package and every mode does not load it', async () => {
    const root = await import('../src/index');
    await import('../src/iptables/index');
    await import('../src/nftables/index');
    await import('../src/ipvs/index');
    await import('../src/runtime/index');
    await import('../src/userspace/index');
    await import('../src/testing/index');
    expect(loads.count).toBe(0);
    expect(typeof root.ProxyState).toBe('function');
  });

  it('the rtnetlink link layer rejects its first operation with IpvsUnavailableError', async () => {
    const { rtnetlinkLinkLayer } = await import('../src/ipvs/index');
    const { isIpvsUnavailableError } = await import('@nodeagent/ipvs');
    const layer = rtnetlinkLinkLayer();
    const err = await layer.linkExists('kube-ipvs0').catch((e: unknown) => e);
    expect(loads.count).toBeGreaterThan(0);
    expect(isIpvsUnavailableError(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'IPVS_UNAVAILABLE',
      reason: expect.stringMatching(/^the native "netlink" addon could not be loaded: \S/),
    });
    layer.close();
  });

  it('opening nfacct rejects with NfacctUnavailableError giving the reason', async () => {
    const { openNetlinkNfacct, NfacctUnavailableError } = await import('../src/runtime/index');
    const err = await openNetlinkNfacct().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfacctUnavailableError);
    expect(err).toMatchObject({
      code: 'NFACCT_UNAVAILABLE',
      reason: expect.stringMatching(/^the native "netlink" addon could not be loaded: \S/),
    });
  });
});
