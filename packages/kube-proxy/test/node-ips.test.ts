import type { V1Node } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { detectNodeIPs, waitForNodeIPs, waitForPodCIDRs } from '../src/index';
import { nodeHostIPs, PodCIDRTimeoutError } from '../src/runtime/index';

const node = (
  addresses: { type: string; address: string }[],
  spec: Wire<V1Node>['spec'] = {},
): Wire<V1Node> => ({
  metadata: { name: 'n1' },
  spec,
  status: { addresses },
});

describe('nodeHostIPs (upstream GetNodeHostIPs)', () => {
  it('puts InternalIPs before ExternalIPs and adds the first address of the other family', () => {
    const n = node([
      { type: 'ExternalIP', address: '203.0.113.7' },
      { type: 'Hostname', address: 'n1' },
      { type: 'InternalIP', address: '10.0.0.5' },
      { type: 'InternalIP', address: '10.0.0.6' },
      { type: 'ExternalIP', address: '2001:db8::7' },
    ]);
    expect(nodeHostIPs(n)).toEqual(['10.0.0.5', '2001:db8::7']);
  });

  it('uses an ExternalIP when there is no InternalIP, and nothing when there is neither', () => {
    expect(nodeHostIPs(node([{ type: 'ExternalIP', address: 'fd00::1' }]))).toEqual(['fd00::1']);
    expect(nodeHostIPs(node([{ type: 'Hostname', address: 'n1' }]))).toEqual([]);
  });
});

describe('detectNodeIPs', () => {
  it('takes the primary family from the first node IP', () => {
    const d = detectNodeIPs(['fd00::5', '10.0.0.5'], '0.0.0.0');
    expect(d).toEqual({
      primaryFamily: 'IPv6',
      byFamily: { IPv4: '10.0.0.5', IPv6: 'fd00::5' },
      primaryIsLoopback: false,
    });
  });

  it('lets a specified bindAddress override the primary', () => {
    const d = detectNodeIPs(['10.0.0.5'], '192.168.9.9');
    expect(d.primaryFamily).toBe('IPv4');
    expect(d.byFamily.IPv4).toBe('192.168.9.9');
    expect(detectNodeIPs(['10.0.0.5'], '::').byFamily.IPv4).toBe('10.0.0.5');
  });

  it('falls back to loopback and says so', () => {
    expect(detectNodeIPs([], '0.0.0.0')).toEqual({
      primaryFamily: 'IPv4',
      byFamily: { IPv4: '127.0.0.1', IPv6: '::1' },
      primaryIsLoopback: true,
    });
  });
});

describe('waitForNodeIPs', () => {
  it('retries with the backoff until the Node has addresses', async () => {
    const answers: (Wire<V1Node> | undefined | Error)[] = [
      undefined,
      new Error('connection refused'),
      node([]),
      node([{ type: 'InternalIP', address: '10.1.2.3' }]),
    ];
    const pauses: number[] = [];
    const reasons: string[] = [];
    const ips = await waitForNodeIPs({
      getNode: async () => {
        const a = answers.shift();
        if (a instanceof Error) throw a;
        return a;
      },
      sleep: async (ms) => {
        pauses.push(ms);
      },
      random: () => 0.5,
      onRetry: (r) => reasons.push(r),
    });
    expect(ips).toEqual(['10.1.2.3']);
    expect(pauses).toEqual([1100, 2200, 4400]);
    expect(reasons).toEqual([
      'the Node does not exist',
      'connection refused',
      'the Node reports no InternalIP or ExternalIP address',
    ]);
  });

  it('gives up after upstream’s six tries and returns no IPs', async () => {
    let tries = 0;
    const ips = await waitForNodeIPs({
      getNode: async () => {
        tries++;
        return undefined;
      },
      sleep: async () => {},
    });
    expect(ips).toEqual([]);
    expect(tries).toBe(6);
  });
});

describe('waitForPodCIDRs', () => {
  it('waits until an IPAM controller assigns the pod CIDR', async () => {
    const answers = [
      undefined,
      node([]),
      node([], { podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24', 'fd00:3::/64'] }),
    ];
    let slept = 0;
    const cidrs = await waitForPodCIDRs({
      getNode: async () => answers.shift(),
      sleep: async () => {
        slept++;
      },
    });
    expect(cidrs).toEqual(['10.244.3.0/24', 'fd00:3::/64']);
    expect(slept).toBe(2);
  });

  it('fails with a typed error naming the last reason after the timeout', async () => {
    let t = 0;
    const err = await waitForPodCIDRs({
      getNode: async () => node([]),
      timeoutMs: 3000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodCIDRTimeoutError);
    expect((err as PodCIDRTimeoutError).code).toBe('POD_CIDR_TIMEOUT');
    expect((err as Error).message).toContain('the Node has no spec.podCIDR yet');
  });
});
