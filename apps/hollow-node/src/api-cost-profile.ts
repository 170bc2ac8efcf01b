import {
  type NodeWorkload,
  TOKEN_REFRESH_FRACTION,
  type UpstreamApiProfile,
  upstreamDefaults,
  WATCH_RENEWAL_SECONDS,
} from './upstream-api-profile';

/** One kind of request on a node: ours measured, upstream's derived, and why they differ. */
export interface CostLine {
  /** Measured in the window, a minute. */
  ours: number;
  upstream: number;
  /** What upstream's agents do (empty when they make none of these). */
  upstreamWhy: string;
  /**
   * Upstream's period for this kind is longer than the window: a window sees it or not by
   * chance, and our rate for it is counted at the same period (see ApiCostProfile.requestsPerMinute).
   */
  beyondWindow?: true;
  /** Why ours differ, for a kind whose rates differ by more than a quarter (or that only one side makes). */
  difference?: string;
}

/** A node's API cost beside upstream's: requests a minute by kind, watches and bytes. */
export interface ApiCostProfile {
  requestsPerMinute: {
    /** What the window counted. */
    measured: number;
    /**
     * The window's requests of the kinds upstream makes more often than the window is long,
     * plus the slow ones at their periods: our watches renewed every 5–10 min (our Reflector's
     * spread), the status PATCH every nodeStatusReportFrequency and each pod's token refreshed at
     * 80 % of its life, as our agents' own timers make them.
     */
    ours: number;
    upstream: number;
  };
  watches: { ours: number; upstream: number; upstreamByResource: Record<string, number> };
  /**
   * Connections held to the API server, each a TLS session the server keeps and a handshake at
   * every restart; `difference` says why ours hold more.
   */
  connections?: { ours: number; upstream: number; difference?: string };
  bytesPerMinute?: { sent: number; received: number };
  byKind: Record<string, CostLine>;
}

/**
 * Why ours make a kind of request at another rate than upstream's, by "VERB resource" (see
 * docs/operations/configmap-secret-strategy.md).
 */
export const knownDifferences: Readonly<Record<string, string>> = {
  'WATCH runtimeclasses': 'ours hold no RuntimeClass watch: a pod naming a RuntimeClass has it read then',
  'WATCH csidrivers': 'ours run no CSI plugin, so no CSIDriver watch',
  'WATCH servicecidrs':
    'our kube-proxy does not watch ServiceCIDRs (upstream’s drops traffic to unallocated ClusterIPs with them)',
};

/**
 * Why ours hold more connections than upstream's one per agent: only where our API clients speak
 * HTTP/1.1 (a server over plain HTTP, or one without h2), where a watch holds its connection for
 * its whole life.
 */
export const CONNECTIONS_DIFFERENCE =
  'ours spoke HTTP/1.1 (a plain-HTTP server, or one that offers no h2): each watch holds a connection of its own, beside a keep-alive pool for requests; over HTTPS ours, as upstream’s client-go, carry every request and watch as streams on one HTTP/2 connection per agent';

function connectionsBeside(ours: number, upstream: number): NonNullable<ApiCostProfile['connections']> {
  return { ours, upstream, ...(ours > upstream ? { difference: CONNECTIONS_DIFFERENCE } : {}) };
}

/** How far two rates may differ before the difference is explained (a quarter, or one side only). */
function differs(ours: number, upstream: number): boolean {
  return Math.abs(ours - upstream) > 0.25 * Math.max(ours, upstream);
}

const round = (value: number) => Number(value.toFixed(3));

/** What a window of `windowSeconds` measured on a node: requests a minute by kind, watches held, bytes. */
export interface MeasuredCost {
  byKind: Record<string, number>;
  watches: number;
  /** Connections open at the window's end. */
  connections?: number;
  windowSeconds: number;
  bytesPerMinute?: { sent: number; received: number };
}

/**
 * Our measured rates beside upstream's profile for the same `workload`, each kind that differs
 * with its explanation (`knownDifferences`, or "not explained": a regression to look at). Kinds
 * upstream makes less often than once a window are not compared kind by kind (a window catches
 * them by chance); the totals count them at their periods on both sides.
 */
export function apiCostProfile(
  measured: MeasuredCost,
  upstream: UpstreamApiProfile,
  workload: NodeWorkload,
): ApiCostProfile {
  const byKind: Record<string, CostLine> = {};
  const kinds = [...new Set([...Object.keys(measured.byKind), ...Object.keys(upstream.byKind)])].sort();
  let oursFrequent = 0;
  for (const kind of kinds) {
    const line = upstream.byKind[kind];
    const entry: CostLine = {
      ours: measured.byKind[kind] ?? 0,
      upstream: line?.perMinute ?? 0,
      upstreamWhy: line?.why ?? '',
    };
    const slow =
      line !== undefined && line.periodSeconds > measured.windowSeconds
        ? true
        : !line && (kind.startsWith('WATCH ') || kind === 'PATCH nodes/status');
    if (slow) entry.beyondWindow = true;
    else oursFrequent += entry.ours;
    // A slow kind's count in one window is chance (watches started together renew together 5–10
    // min later): the watches held are compared instead, and the totals at the periods.
    if (!slow && differs(entry.ours, entry.upstream))
      entry.difference = knownDifferences[kind] ?? 'not explained: compare with upstream’s source';
    else if (slow && line && knownDifferences[kind]) entry.difference = knownDifferences[kind];
    byKind[kind] = entry;
  }
  // Our slow requests at the periods our agents' timers give them, as upstream's are counted.
  const oursSlow =
    (measured.watches * 60) / WATCH_RENEWAL_SECONDS +
    60 / upstreamDefaults.nodeStatusReportFrequencySeconds +
    (workload.tokenPods * 60) / (upstreamDefaults.tokenExpirationSeconds * TOKEN_REFRESH_FRACTION);
  return {
    requestsPerMinute: {
      measured: round(Object.values(measured.byKind).reduce((sum, value) => sum + value, 0)),
      ours: round(oursFrequent + oursSlow),
      upstream: upstream.requestsPerMinute,
    },
    watches: {
      ours: measured.watches,
      upstream: upstream.watchesTotal,
      upstreamByResource: upstream.watches,
    },
    ...(measured.connections === undefined
      ? {}
      : { connections: connectionsBeside(measured.connections, upstream.connections) }),
    ...(measured.bytesPerMinute ? { bytesPerMinute: measured.bytesPerMinute } : {}),
    byKind,
  };
}
