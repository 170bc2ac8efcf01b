import {
  type IptablesCanaryMonitor,
  IptablesClient,
  type IptablesInterface,
  monitorIptablesCanary,
} from '@nodeagent/netfilter/iptables';
import type { Clock } from '@nodeagent/primitives';
import type { KubeletLogger } from '../kubelet-logger';
import { KUBE_KUBELET_CANARY_CHAIN, syncIPTablesRules } from './iptables-util-chains';

/** What initNetworkUtil runs against. */
export interface NetworkUtilOptions {
  /** Drives the canary monitors. */
  clock: Clock;
  /** Where upstream's iptables start-up lines go. */
  logger: KubeletLogger;
  /** One client per family, IPv4 first; default: the host's iptables and ip6tables. */
  clients?: readonly IptablesInterface[];
}

/** The canary monitors initNetworkUtil started, one per family whose rules were set up. */
export interface NetworkUtil {
  readonly monitors: readonly IptablesCanaryMonitor[];
  /** Ends the monitors (the chains and rules stay). */
  stop(): void;
}

// Upstream's Monitor interval for the kubelet's canary.
const CANARY_INTERVAL_MS = 60_000;

/**
 * Upstream v1.36's initNetworkUtil, run at start when makeIPTablesUtilChains is true: for each
 * family iptables supports here (utiliptables.NewBestEffort: `-t nat -S POSTROUTING` works), set
 * up the kubelet's chains and rules and keep a canary in mangle, nat and filter that re-creates
 * them within a minute of a flush. Nothing here stops the kubelet: failures are logged only.
 */
export async function initNetworkUtil(options: NetworkUtilOptions): Promise<NetworkUtil> {
  const { clock, logger } = options;
  const clients = options.clients ?? [
    new IptablesClient({ family: 'ipv4' }),
    new IptablesClient({ family: 'ipv6' }),
  ];
  const supported: IptablesInterface[] = [];
  const missing: string[] = [];
  for (const client of clients) {
    const present = await client.chainExists('nat', 'POSTROUTING').catch((error: unknown) => {
      // A missing binary throws CommandNotFoundError, whose message names it.
      missing.push(String(error));
      return false;
    });
    if (present) supported.push(client);
  }
  if (supported.length === 0) {
    // Upstream logs this as info, not an error: the kubelet itself needs none of these rules.
    logger.info(
      missing.length > 0 ? { err: missing.join('; ') } : {},
      'No iptables support on this system; not creating the KUBE-IPTABLES-HINT chain',
    );
    return { monitors: [], stop() {} };
  }
  const monitors: IptablesCanaryMonitor[] = [];
  for (const client of supported) {
    const protocol = client.family === 'ipv6' ? 'IPv6' : 'IPv4';
    if (!(await syncIPTablesRules(client, logger))) {
      logger.info({ protocol }, 'Failed to initialize iptables rules; some functionality may be missing.');
      continue;
    }
    logger.info({ protocol }, 'Initialized iptables rules.');
    monitors.push(
      monitorIptablesCanary({
        client,
        canary: KUBE_KUBELET_CANARY_CHAIN,
        tables: ['mangle', 'nat', 'filter'],
        reload: () => syncIPTablesRules(client, logger),
        intervalMs: CANARY_INTERVAL_MS,
        clock,
        logger,
      }),
    );
  }
  return {
    monitors,
    stop() {
      for (const monitor of monitors) monitor.stop();
    },
  };
}
