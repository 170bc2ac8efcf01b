import type { Registry } from 'prom-client';
import {
  CT_STATE_INVALID_DROPPED_COUNTER,
  LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
  type NfacctClient,
} from './nfacct';
import type { ProxyLogger } from './proxy-logger';

/** Upstream's nfacct-backed counters: metric name, help, and the nfacct object each reads. */
export const NFACCT_METRICS: readonly { name: string; help: string; counter: string }[] = [
  {
    name: 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total',
    help: 'packets dropped by iptables to work around conntrack problems',
    counter: CT_STATE_INVALID_DROPPED_COUNTER,
  },
  {
    name: 'kubeproxy_iptables_localhost_nodeports_accepted_packets_total',
    help: 'Number of packets accepted on nodeports of loopback interface',
    counter: LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
  },
];

/**
 * Registers the nfacct counters as custom collectors, as upstream: each scrape reads the
 * kernel's packet count over netlink; a counter that cannot be read (absent, no nfacct in the
 * kernel) publishes no sample, not a 0. Registering twice (one proxier per IP family sharing a
 * registry) keeps the first.
 */
export function registerNfacctMetrics(registry: Registry, nfacct: NfacctClient, log: ProxyLogger): void {
  for (const m of NFACCT_METRICS) {
    if (registry.getSingleMetric(m.name)) continue;
    const get = async () => {
      let values: { value: number; labels: Record<string, string> }[] = [];
      try {
        const c = await nfacct.get(m.counter);
        if (c) values = [{ value: Number(c.packets), labels: {} }];
      } catch (err) {
        log.error({ err, counter: m.counter }, 'failed to collect nfacct counter');
      }
      return { name: m.name, help: m.help, type: 'counter', values, aggregator: 'sum' };
    };
    // prom-client takes any object with these fields and an async get() as a metric.
    registry.registerMetric({
      name: m.name,
      help: m.help,
      type: 'counter',
      aggregator: 'sum',
      get,
      // Registry.resetMetrics() resets every metric; the kernel's count is not ours to reset.
      reset: () => undefined,
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
