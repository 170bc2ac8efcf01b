import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  categorizeEndpoints,
  endpointsFromSlices,
  type ServicePort,
  servicePortsFromService,
} from '../src/index';
import { type EndpointSpec, service, slice } from './fixtures';

function setup(spec: Parameters<typeof service>[1], eps: EndpointSpec[]) {
  const sp = [...servicePortsFromService(service('web', spec), 'IPv4').values()][0] as ServicePort;
  const endpoints = endpointsFromSlices([slice('web', eps)], 'IPv4', 'n1').get('default/web:http') ?? [];
  return { sp, endpoints };
}

const ips = (eps: readonly { ip: string }[]) => eps.map((e) => e.ip);

describe('categorizeEndpoints', () => {
  it('uses ready endpoints, ignoring terminating ones while any are ready', () => {
    const { sp, endpoints } = setup({}, [
      { ip: '10.0.0.1' },
      { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.3', ready: false },
    ]);
    const c = categorizeEndpoints(endpoints, sp, 'n1', {});
    expect(ips(c.clusterEndpoints)).toEqual(['10.0.0.1']);
    expect(c.hasAnyEndpoints).toBe(true);
  });

  it('falls back to serving+terminating when nothing is ready', () => {
    const { sp, endpoints } = setup({}, [
      { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
      { ip: '10.0.0.3', ready: false, serving: false, terminating: true },
    ]);
    const c = categorizeEndpoints(endpoints, sp, 'n1', {});
    expect(ips(c.clusterEndpoints)).toEqual(['10.0.0.2']);
  });

  it('reports no endpoints when none are usable', () => {
    const { sp, endpoints } = setup({}, [{ ip: '10.0.0.3', ready: false }]);
    const c = categorizeEndpoints(endpoints, sp, 'n1', {});
    expect(c.clusterEndpoints).toEqual([]);
    expect(c.hasAnyEndpoints).toBe(false);
  });

  it('iTP=Local uses local endpoints only but still knows remote ones exist', () => {
    const { sp, endpoints } = setup({ internalTrafficPolicy: 'Local' }, [
      { ip: '10.0.0.1', node: 'n2' },
      { ip: '10.0.0.2', node: 'n1' },
    ]);
    const c = categorizeEndpoints(endpoints, sp, 'n1', {});
    expect(ips(c.localEndpoints)).toEqual(['10.0.0.2']);
    expect(c.clusterEndpoints).toEqual([]);
    expect(ips(c.allReachableEndpoints)).toEqual(['10.0.0.2']);

    const remoteOnly = setup({ internalTrafficPolicy: 'Local' }, [{ ip: '10.0.0.1', node: 'n2' }]);
    const r = categorizeEndpoints(remoteOnly.endpoints, remoteOnly.sp, 'n1', {});
    expect(r.localEndpoints).toEqual([]);
    expect(r.hasAnyEndpoints).toBe(true);
  });

  it('eTP=Local keeps cluster endpoints too (for short-circuiting)', () => {
    const { sp, endpoints } = setup(
      {
        type: 'NodePort',
        externalTrafficPolicy: 'Local',
        ports: [{ name: 'http', port: 80, nodePort: 30000 }],
      },
      [
        { ip: '10.0.0.1', node: 'n2' },
        { ip: '10.0.0.2', node: 'n1' },
      ],
    );
    const c = categorizeEndpoints(endpoints, sp, 'n1', {});
    expect(ips(c.clusterEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(ips(c.localEndpoints)).toEqual(['10.0.0.2']);
    expect(ips(c.allReachableEndpoints)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('applies zone hints only when every ready endpoint has them and one matches our zone', () => {
    const eps: EndpointSpec[] = [
      { ip: '10.0.0.1', zoneHints: ['a'] },
      { ip: '10.0.0.2', zoneHints: ['b'] },
    ];
    const { sp, endpoints } = setup({}, eps);
    expect(
      ips(categorizeEndpoints(endpoints, sp, 'n1', { 'topology.kubernetes.io/zone': 'a' }).clusterEndpoints),
    ).toEqual(['10.0.0.1']);
    // Our zone is hinted to nobody: ignore hints rather than black-hole.
    expect(
      ips(categorizeEndpoints(endpoints, sp, 'n1', { 'topology.kubernetes.io/zone': 'c' }).clusterEndpoints),
    ).toEqual(['10.0.0.1', '10.0.0.2']);
    const partial = setup({}, [{ ip: '10.0.0.1', zoneHints: ['a'] }, { ip: '10.0.0.2' }]);
    expect(
      ips(
        categorizeEndpoints(partial.endpoints, partial.sp, 'n1', { 'topology.kubernetes.io/zone': 'a' })
          .clusterEndpoints,
      ),
    ).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('prefers node hints (PreferSameNode) over zone hints', () => {
    const { sp, endpoints } = setup({}, [
      { ip: '10.0.0.1', zoneHints: ['a'], nodeHints: ['n1'] },
      { ip: '10.0.0.2', zoneHints: ['a'], nodeHints: ['n2'] },
    ]);
    const c = categorizeEndpoints(endpoints, sp, 'n1', { 'topology.kubernetes.io/zone': 'a' });
    expect(ips(c.clusterEndpoints)).toEqual(['10.0.0.1']);
  });

  it('property: cluster endpoints are a usable subset, never empty when any endpoint is ready', () => {
    const epArb = fc.record({
      ready: fc.boolean(),
      serving: fc.boolean(),
      terminating: fc.boolean(),
      local: fc.boolean(),
      zone: fc.constantFrom(undefined, 'a', 'b'),
    });
    fc.assert(
      fc.property(fc.array(epArb, { maxLength: 8 }), fc.constantFrom('a', 'b', ''), (specs, zone) => {
        const eps: EndpointSpec[] = specs.map((s, i) => ({
          ip: `10.0.0.${i + 1}`,
          ready: s.ready,
          serving: s.serving || s.ready,
          terminating: s.terminating,
          node: s.local ? 'n1' : 'n2',
          ...(s.zone ? { zoneHints: [s.zone] } : {}),
        }));
        const { sp, endpoints } = setup({}, eps);
        const c = categorizeEndpoints(
          endpoints,
          sp,
          'n1',
          zone ? { 'topology.kubernetes.io/zone': zone } : {},
        );
        const all = new Set(endpoints.map((e) => e.endpoint));
        for (const e of c.clusterEndpoints) {
          expect(all.has(e.endpoint)).toBe(true);
          expect(e.ready || (e.serving && e.terminating)).toBe(true);
        }
        if (endpoints.some((e) => e.ready)) {
          expect(c.clusterEndpoints.length).toBeGreaterThan(0);
          expect(c.clusterEndpoints.every((e) => e.ready)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
