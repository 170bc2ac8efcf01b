import { describe, expect, it } from 'vitest';
import { apiCostProfile } from '../src/api-cost-profile';
import { upstreamApiProfile } from '../src/upstream-api-profile';

const idle = { pods: 0, tokenPods: 0, configMaps: 0, secrets: 0 };
const thirty = { pods: 30, tokenPods: 30, configMaps: 4, secrets: 3 };

describe("upstream's API profile of a node (kubelet and kube-proxy, defaults)", () => {
  it('an idle node: the Lease every 10 s, the status every 5 min, nine watches renewed every 7.5 min', () => {
    const profile = upstreamApiProfile(idle);
    expect(profile.byKind['PUT leases']?.perMinute).toBe(6);
    expect(profile.byKind['PATCH nodes/status']?.perMinute).toBe(0.2);
    expect(profile.watchesTotal).toBe(9);
    expect(profile.watches).toMatchObject({ pods: 1, nodes: 2, services: 2, endpointslices: 1 });
    expect(profile.byKind['GET nodes']).toBeUndefined();
    expect(profile.requestsPerMinute).toBeCloseTo(6 + 0.2 + 9 / 7.5, 2);
    // Every request and watch of each agent as streams of one HTTP/2 connection.
    expect(profile.connections).toBe(2);
  });

  it('30 pods: a watch per referenced ConfigMap and Secret, and each pod’s token refreshed at 80 % of 3607 s', () => {
    const profile = upstreamApiProfile(thirty);
    expect(profile.watches.configmaps).toBe(4);
    expect(profile.watches.secrets).toBe(3);
    expect(profile.byKind['POST serviceaccounts/token']?.perMinute).toBeCloseTo((30 * 60) / 2885.6, 2);
    expect(profile.byKind['GET configmaps']).toBeUndefined();
    // The Cache strategy GETs each object once a TTL instead, and watches none.
    const cached = upstreamApiProfile(thirty, {
      nodeLeaseDurationSeconds: 40,
      nodeStatusReportFrequencySeconds: 300,
      strategy: 'Cache',
      syncFrequencySeconds: 60,
      tokenExpirationSeconds: 3607,
    });
    expect(cached.byKind['GET configmaps']?.perMinute).toBe(4);
    expect(cached.watches.configmaps).toBeUndefined();
  });
});

describe('our measured cost beside upstream’s', () => {
  it('explains or flags each kind that differs, and counts the slow kinds at their periods', () => {
    const profile = apiCostProfile(
      {
        byKind: { 'PUT leases': 6, 'GET nodes': 6, 'WATCH pods': 0 },
        watches: 6,
        windowSeconds: 60,
      },
      upstreamApiProfile(idle),
      idle,
    );
    expect(profile.byKind['PUT leases']?.difference).toBeUndefined();
    // A kind upstream never makes, with no explanation: flagged.
    expect(profile.byKind['GET nodes']?.difference).toMatch(/not explained/);
    // A watch renewal is slower than the window: not compared kind by kind.
    expect(profile.byKind['WATCH pods']).toMatchObject({ beyondWindow: true });
    expect(profile.byKind['WATCH pods']?.difference).toBeUndefined();
    expect(profile.byKind['WATCH csidrivers']?.difference).toMatch(/CSI/);
    // 12 in the window's frequent kinds, then 6 watches' renewals and the status report.
    expect(profile.requestsPerMinute.ours).toBeCloseTo(12 + 6 / 7.5 + 0.2, 2);
    expect(profile.requestsPerMinute.measured).toBe(12);
    // No connections measured, none compared.
    expect(profile).not.toHaveProperty('connections');
  });

  it('sets our connections beside upstream’s one per agent, and says why ours hold more', () => {
    const measured = { byKind: {}, watches: 6, windowSeconds: 60 };
    const more = apiCostProfile({ ...measured, connections: 8 }, upstreamApiProfile(idle), idle);
    expect(more.connections).toMatchObject({ ours: 8, upstream: 2 });
    expect(more.connections?.difference).toMatch(/HTTP\/1\.1.*each watch/);
    const same = apiCostProfile({ ...measured, connections: 2 }, upstreamApiProfile(idle), idle);
    expect(same.connections).toEqual({ ours: 2, upstream: 2 });
  });
});
