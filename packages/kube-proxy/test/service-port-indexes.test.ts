import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ProxySnapshot, ProxyState } from '../src/model/proxy-snapshot';
import type { ServicePort } from '../src/model/service-port';
import type { ServiceHealthServer } from '../src/runtime/service-health-server';
import { syncServiceHealth } from '../src/shared/sync-service-health';
import { service, slice } from './fixtures';

// Issue #54: the health check servers and the conntrack reconciler read the snapshot's indexes
// of health-check and UDP ports, kept as Services change, instead of scanning every Service
// port after every sync (an endpoint change included).

type Kind = 'tcp' | 'udp' | 'lb-local' | 'gone';

/** Service `n` as `kind` ('gone': deleted). */
function svc(n: number, kind: Exclude<Kind, 'gone'>) {
  const protocol = kind === 'udp' ? 'UDP' : 'TCP';
  return service(`s${n}`, {
    clusterIP: `10.96.1.${n}`,
    ports: [{ name: 'p', port: 53, protocol, ...(kind === 'lb-local' ? { nodePort: 30000 + n } : {}) }],
    ...(kind === 'lb-local'
      ? { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 + n }
      : {}),
  });
}

function only(map: ReadonlyMap<string, ServicePort>, keep: (sp: ServicePort) => boolean) {
  return [...map].filter(([, sp]) => keep(sp));
}

function cluster(services: number): ProxyState {
  const state = new ProxyState('IPv4', 'node-a');
  for (let n = 0; n < services; n++) {
    state.onService(undefined, svc(n, n === 1 ? 'lb-local' : n === 2 ? 'udp' : 'tcp'));
    const ep = { ip: `10.1.${n >> 8}.${n & 255}`, node: 'node-a', ready: true };
    state.onEndpointSlice(slice(`s${n}`, [ep], { ports: [{ name: 'p', port: 53 }] }), false);
  }
  return state;
}

describe('ProxySnapshot service port indexes', () => {
  it('hold exactly the health-check and the UDP ports of the services map, whatever the changes', () => {
    const step = fc.record({
      n: fc.integer({ min: 0, max: 5 }),
      kind: fc.constantFrom<Kind>('tcp', 'udp', 'lb-local', 'gone'),
      snapshot: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const state = new ProxyState('IPv4', 'node-a');
        const live = new Map<number, Exclude<Kind, 'gone'>>();
        const check = () => {
          const snap = state.snapshot();
          // As maps: a port that stops and starts qualifying moves to the index's end.
          expect(new Map(snap.healthCheckPorts)).toEqual(
            new Map(only(snap.services, (sp) => sp.healthCheckNodePort !== 0)),
          );
          expect(new Map(snap.udpPorts)).toEqual(new Map(only(snap.services, (sp) => sp.protocol === 'UDP')));
        };
        for (const { n, kind, snapshot } of steps) {
          const before = live.get(n);
          if (kind === 'gone') {
            if (before) state.onService(svc(n, before), undefined);
            live.delete(n);
          } else {
            state.onService(before ? svc(n, before) : undefined, svc(n, kind));
            live.set(n, kind);
          }
          if (snapshot) check();
        }
        check();
      }),
    );
  });

  it('an endpoint change leaves both indexes as they were, at 100 Services as at 5,000', () => {
    for (const services of [100, 5_000]) {
      const state = cluster(services);
      const first = state.snapshot();
      expect([first.healthCheckPorts.size, first.udpPorts.size]).toEqual([1, 1]);
      state.onEndpointSlice(slice('s7', [{ ip: '10.250.0.1' }], { ports: [{ name: 'p', port: 53 }] }), false);
      const next = state.snapshot();
      expect(next.changedServices).toEqual(new Set(['default/s7']));
      expect(next.healthCheckPorts).toBe(first.healthCheckPorts);
      expect(next.udpPorts).toBe(first.udpPorts);
    }
  });
});

describe('syncServiceHealth', () => {
  it('serves the snapshot health-check ports and local endpoints without reading the services map', async () => {
    const snap = cluster(5_000).snapshot();
    const untouchable = new Proxy(snap.services, {
      get: () => {
        throw new Error('syncServiceHealth read the services map');
      },
    });
    const calls: unknown[] = [];
    const server = {
      syncServices: async (ports: ReadonlyMap<string, number>) => void calls.push([...ports]),
      syncEndpoints: (counts: ReadonlyMap<string, number>) => void calls.push([...counts]),
    } as unknown as ServiceHealthServer;
    await syncServiceHealth(server, { ...snap, services: untouchable } as ProxySnapshot);
    expect(calls).toEqual([[['default/s1', 32001]], [['default/s1', 1]]]);
  });
});
