import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The host's interfaces, as getifaddrs(3) would give them, with a count of the reads.
const read = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:os', async (importOriginal) => ({
  ...(await importOriginal<typeof import('node:os')>()),
  networkInterfaces: () => {
    read.count++;
    return {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [{ address: '10.9.8.7', family: 'IPv4', internal: false }],
    };
  },
}));

// Workers are not isolated: the module is imported afresh so it binds to the mock above, and
// dropped again so the worker's next file does not get one bound to it.
let nodeAddresses: typeof import('../src/node-addresses').nodeAddresses;
beforeAll(async () => {
  vi.resetModules();
  ({ nodeAddresses } = await import('../src/node-addresses'));
});
afterAll(() => {
  vi.resetModules();
});

describe('nodeAddresses', () => {
  it('does not read the host interfaces when node IPs are given (a status update would wait on the rtnl lock)', () => {
    read.count = 0;
    expect(nodeAddresses(['10.1.2.3', 'fd00::3'], 'h')).toEqual([
      { type: 'InternalIP', address: '10.1.2.3' },
      { type: 'InternalIP', address: 'fd00::3' },
      { type: 'Hostname', address: 'h' },
    ]);
    expect(read.count).toBe(0);
  });

  it('reads them once when none is given, and takes the first non-loopback IPv4', () => {
    read.count = 0;
    expect(nodeAddresses([], 'h')).toEqual([
      { type: 'InternalIP', address: '10.9.8.7' },
      { type: 'Hostname', address: 'h' },
    ]);
    expect(read.count).toBe(1);
  });
});
