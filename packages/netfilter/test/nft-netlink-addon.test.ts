import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// A platform without the native addon: importing `netlink` throws, as it does where no prebuilt
// binary fits. The nftables entry must still import, and only opening a socket fails, typed.
vi.mock('netlink', () => {
  throw new Error('No native build was found for platform=test');
});
// Workers are not isolated: the sources are imported afresh under the mock, and dropped again so
// the worker's next file does not get modules bound to it.
beforeAll(() => {
  vi.resetModules();
});
afterAll(() => {
  vi.resetModules();
});

describe('nf_tables over netlink without the native addon', () => {
  it('imports the nftables entry, then fails the first operation with NftNetlinkUnavailableError', async () => {
    const nftables = await import('../src/nftables/index');
    const client = new nftables.NetlinkNftablesClient({ family: 'ip', table: 't' });
    const attempt = client.run(new nftables.NftTransaction().add({ kind: 'table' }));
    await expect(attempt).rejects.toBeInstanceOf(nftables.NftNetlinkUnavailableError);
    await expect(client.list()).rejects.toMatchObject({
      code: 'NFT_NETLINK_UNAVAILABLE',
      message: expect.stringContaining('the native "netlink" addon could not be loaded'),
    });
  });
});
