import { describe, expect, it } from 'vitest';
import { type ConntrackCleaner, clearStaleConntrack, ProxyState } from '../src/index';
import { service, slice } from './fixtures';

/** Records every deletion it is asked for. */
function recordingCleaner(): ConntrackCleaner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async clearByDestination(ip, protocol) {
      calls.push(`dst ${ip} ${protocol}`);
    },
    async clearByNAT(origDst, endpointIP, protocol) {
      calls.push(`nat ${origDst} -> ${endpointIP} ${protocol}`);
    },
    async clearByPort(port, protocol) {
      calls.push(`port ${port} ${protocol}`);
    },
    async clearByPortNAT(port, endpointIP, protocol) {
      calls.push(`port ${port} -> ${endpointIP} ${protocol}`);
    },
  };
}

const dns = service('dns', {
  type: 'NodePort',
  clusterIP: '10.96.0.53',
  externalIPs: ['192.0.2.53'],
  ports: [
    { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30054 },
  ],
});
const ports = [
  { name: 'dns', port: 5353, protocol: 'UDP' },
  { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
];

describe('clearStaleConntrack', () => {
  it('clears what upstream clears, for UDP ports only', async () => {
    const state = new ProxyState('IPv4', 'node-a');
    state.onService(undefined, dns);
    state.onEndpointSlice(slice('dns', [], { ports }), false);
    const ct = recordingCleaner();
    await clearStaleConntrack(ct, state.snapshot());
    expect(ct.calls).toEqual([]);

    // No endpoints → some: the remembered REJECTs for the Service's IPs and NodePort go.
    state.onEndpointSlice(slice('dns', [{ ip: '10.244.1.5' }], { ports }), false);
    await clearStaleConntrack(ct, state.snapshot());
    expect(ct.calls.splice(0)).toEqual(['dst 10.96.0.53 udp', 'dst 192.0.2.53 udp', 'port 30053 udp']);

    // An endpoint goes: flows NATed to it, from every Service address and the NodePort.
    state.onEndpointSlice(slice('dns', [{ ip: '10.244.2.6' }], { ports }), false);
    await clearStaleConntrack(ct, state.snapshot());
    expect(ct.calls.splice(0)).toEqual([
      'nat 10.96.0.53 -> 10.244.1.5 udp',
      'nat 192.0.2.53 -> 10.244.1.5 udp',
      'port 30053 -> 10.244.1.5 udp',
    ]);

    // The Service goes: everything to its cluster IP.
    state.onService(dns, undefined);
    await clearStaleConntrack(ct, state.snapshot());
    expect(ct.calls.splice(0)).toContain('dst 10.96.0.53 udp');
  });
});
