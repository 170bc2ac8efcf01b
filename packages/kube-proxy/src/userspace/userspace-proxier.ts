import type { IptablesClient } from '@nodeagent/netfilter';
import type { KubeProxyError } from '../errors';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { ServicePort } from '../model/service-port';
import type { ServiceHealthServer } from '../runtime/service-health-server';
import { ProxierBase, type ProxierBaseOptions, type SyncResult } from '../shared/proxier-base';
import { syncServiceHealth } from '../shared/sync-service-health';
import { buildPortalRuleset, type PortalTarget } from './build-portal-rules';
import { ListenError, UnsupportedProtocolError } from './errors';
import { USERSPACE_JUMP_RULES } from './portal-chains';
import { ProxyPortAllocator, type ProxyPortRange } from './proxy-port-range';
import { RoundRobinBalancer } from './round-robin-balancer';
import type { ListenAddress, ServiceProxy } from './service-proxy';
import { TcpServiceProxy } from './tcp-service-proxy';
import { UdpServiceProxy } from './udp-service-proxy';
import { UserspaceMetrics } from './userspace-metrics';

/** The parts of IptablesClient the userspace proxier needs (tests may pass a fake). */
export type PortalIptables = Pick<IptablesClient, 'restore' | 'ensureChain' | 'ensureRule'>;

/** Options of UserspaceProxier: the common proxier options plus how the proxies are reached and limited. */
export interface UserspaceProxierOptions extends ProxierBaseOptions {
  /**
   * Where REDIRECTed traffic reaches the proxies: programs KUBE-PORTALS-* / KUBE-NODEPORT-*
   * in the nat table. Omit together with `bindOnly: true` to run without any kernel rules.
   */
  iptables?: PortalIptables;
  /**
   * --userspace-bind-only: no kernel rules; each proxy listens on the service's own cluster
   * IP, external IPs and load-balancer VIPs at the service port (they must be local addresses),
   * and on `nodePortAddresses` at the node port.
   */
  bindOnly?: boolean;
  /** Address the REDIRECT-mode proxies listen on (upstream --bind-address); default all. */
  bindAddress?: string;
  /**
   * REDIRECT mode: the local ports proxies may listen on (upstream portRange); any free
   * port when omitted.
   */
  proxyPortRange?: ProxyPortRange;
  /** Bind-only mode: local addresses that serve node ports (none by default). */
  nodePortAddresses?: readonly string[];
  /** Connections (TCP) or sessions (UDP) per service port; 0 = unlimited (default 10000). */
  maxConnectionsPerService?: number;
  /** Per-attempt dial timeouts; their number bounds the attempts per connection. */
  dialTimeoutsMs?: readonly number[];
  /** Idle timeout of UDP sessions (upstream --udp-timeout, default 250ms). */
  udpIdleTimeoutMs?: number;
  /** Connection counters; defaults to new ones on `metrics.registry` when metrics are given. */
  userspaceMetrics?: UserspaceMetrics;
  /** healthCheckNodePort servers of LoadBalancer Services with externalTrafficPolicy Local. */
  serviceHealth?: ServiceHealthServer;
}

/** Upstream userspace proxier's dial back-off: four attempts, 250ms doubling to 2s. */
export const DEFAULT_DIAL_TIMEOUTS_MS: readonly number[] = [250, 500, 1000, 2000];
/** Idle time after which a UDP session's upstream socket closes: upstream's `--udp-timeout` default. */
export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 250;
/**
 * Concurrent connections (TCP) or sessions (UDP) per service port when maxConnectionsPerService
 * is unset; more are refused, so one busy Service cannot exhaust the process's file descriptors.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_SERVICE = 10_000;

interface RunningProxy {
  readonly proxy: ServiceProxy;
  readonly balancer: RoundRobinBalancer;
  /** What the listeners were opened for; a change re-opens them. */
  readonly listenKey: string;
  /** Latest version of the service port (REDIRECT rules follow its IPs and ports). */
  servicePort: ServicePort;
}

/**
 * kube-proxy's userspace mode: an L4 proxy per service port inside this process. Syncs
 * (rate-limited like the kernel modes) open and close proxies as service ports come and go,
 * hand each its current endpoints, and, unless bind-only, rewrite the REDIRECT rules that
 * steer service traffic to the proxies' local ports. A service port whose listener cannot
 * be opened is reported in `serviceErrors()` and retried on the next sync; the others work.
 */
export class UserspaceProxier extends ProxierBase {
  private readonly metrics: UserspaceMetrics | undefined;
  private readonly proxies = new Map<string, RunningProxy>();
  /** Proxies of removed or re-opened service ports whose connections are still draining. */
  private readonly draining = new Set<ServiceProxy>();
  private readonly errors = new Map<string, KubeProxyError>();
  private readonly portAllocator: ProxyPortAllocator | undefined;
  private stopped = false;

  constructor(private readonly opts: UserspaceProxierOptions) {
    if (!opts.bindOnly && !opts.iptables) {
      throw new TypeError('UserspaceProxier: pass `iptables` for REDIRECT mode, or `bindOnly: true`');
    }
    super(opts);
    this.metrics =
      opts.userspaceMetrics ?? (opts.metrics ? new UserspaceMetrics(opts.metrics.registry) : undefined);
    this.portAllocator =
      opts.proxyPortRange && !opts.bindOnly ? new ProxyPortAllocator(opts.proxyPortRange) : undefined;
  }

  /** Stops syncing and closes every proxy, tearing down open connections. */
  override async stop(): Promise<void> {
    this.stopped = true;
    await super.stop();
    const all = [...[...this.proxies.values()].map((p) => p.proxy), ...this.draining];
    this.proxies.clear();
    this.draining.clear();
    await Promise.all(all.map((p) => p.destroy()));
  }

  /** Service ports whose proxy is not running, with why (port in use, SCTP, ...). */
  serviceErrors(): ReadonlyMap<string, KubeProxyError> {
    return this.errors;
  }

  /** The local port(s) each running service port's proxy listens on, by servicePortKey. */
  proxyPorts(): ReadonlyMap<string, readonly number[]> {
    return new Map([...this.proxies].map(([key, p]) => [key, p.proxy.boundPorts()]));
  }

  /** Open connections (TCP) or sessions (UDP) of a service port, including draining ones. */
  activeConnections(servicePortKey: string): number {
    const running = this.proxies.get(servicePortKey);
    let n = running ? running.proxy.activeConnections() : 0;
    for (const p of this.draining) if (p.servicePort === servicePortKey) n += p.activeConnections();
    return n;
  }

  private listenAddresses(sp: ServicePort): ListenAddress[] {
    if (!this.opts.bindOnly)
      return [{ host: this.opts.bindAddress ?? (this.family === 'IPv6' ? '::' : '0.0.0.0'), port: 0 }];
    const out: ListenAddress[] = [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerVIPs].map((host) => ({
      host,
      port: sp.port,
    }));
    if (sp.nodePort !== 0)
      for (const host of this.opts.nodePortAddresses ?? []) out.push({ host, port: sp.nodePort });
    return out;
  }

  private async openProxy(
    sp: ServicePort,
    addresses: readonly ListenAddress[],
    listenKey: string,
  ): Promise<RunningProxy> {
    const alloc = this.portAllocator;
    if (!alloc) return this.openProxyOn(sp, addresses, listenKey);
    // REDIRECT mode with a port range: the first free port of the range.
    let lastError: unknown;
    for (const port of alloc.candidates()) {
      try {
        const running = await this.openProxyOn(sp, [{ host: addresses[0]!.host, port }], listenKey);
        alloc.hold(port);
        return running;
      } catch (err) {
        if (!(err instanceof ListenError) || err.code !== 'PORT_IN_USE') throw err;
        lastError = err;
      }
    }
    throw (
      lastError ??
      new ListenError(sp.key, addresses[0]!.host, alloc.range.base, new Error('port range exhausted'))
    );
  }

  private async openProxyOn(
    sp: ServicePort,
    addresses: readonly ListenAddress[],
    listenKey: string,
  ): Promise<RunningProxy> {
    const balancer = new RoundRobinBalancer(this.clock, sp.stickyMaxAgeSeconds);
    const options = {
      servicePort: sp.key,
      balancer,
      clock: this.clock,
      logger: this.log,
      metrics: this.metrics,
      maxConnections: this.opts.maxConnectionsPerService ?? DEFAULT_MAX_CONNECTIONS_PER_SERVICE,
      dialTimeoutsMs: this.opts.dialTimeoutsMs ?? DEFAULT_DIAL_TIMEOUTS_MS,
      udpIdleTimeoutMs: this.opts.udpIdleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS,
    };
    const proxy = sp.protocol === 'UDP' ? new UdpServiceProxy(options) : new TcpServiceProxy(options);
    await proxy.listen(addresses);
    return { proxy, balancer, listenKey, servicePort: sp };
  }

  /** Stops accepting on a proxy; its open connections finish on their own (draining). */
  private retire(running: RunningProxy): void {
    const { proxy } = running;
    if (this.portAllocator) for (const port of proxy.boundPorts()) this.portAllocator.release(port);
    void proxy.stopListening();
    // Even without connections: the sync's end (pruneDraining) tells a re-opened port from a gone one.
    this.draining.add(proxy);
  }

  private pruneDraining(): void {
    for (const p of this.draining)
      if (p.activeConnections() === 0) {
        this.draining.delete(p);
        this.forgetMetricsIfGone(p);
      }
  }

  /** A drained proxy's service port no longer proxied (not merely re-opened): its series go. */
  private forgetMetricsIfGone(proxy: ServiceProxy): void {
    if (this.proxies.has(proxy.servicePort)) return;
    for (const p of this.draining) if (p.servicePort === proxy.servicePort) return;
    this.metrics?.forgetServicePort(proxy.servicePort, proxy instanceof UdpServiceProxy ? 'UDP' : 'TCP');
  }

  async syncProxyRules(): Promise<SyncResult | undefined> {
    if (!this.isInitialized() || this.stopped) return undefined;
    const start = this.clock.now();
    const snapshot = this.checkoutSnapshot();
    let result: SyncResult;
    try {
      // Service ports that went away first, so a port they held is free for a new one.
      for (const [key, running] of this.proxies) {
        if (snapshot.services.has(key)) continue;
        this.proxies.delete(key);
        this.retire(running);
      }
      for (const key of this.errors.keys()) if (!snapshot.services.has(key)) this.errors.delete(key);

      for (const [key, sp] of snapshot.services) {
        if (sp.protocol === 'SCTP') {
          if (!this.errors.has(key)) {
            const err = new UnsupportedProtocolError(key, sp.protocol);
            this.log.error({ err, servicePort: key }, err.message);
            this.errors.set(key, err);
          }
          continue;
        }
        const addresses = this.listenAddresses(sp);
        const listenKey = `${sp.protocol} ${addresses.map((a) => `${a.host}:${a.port}`).join(',')}`;
        let running = this.proxies.get(key);
        if (running && running.listenKey !== listenKey) {
          this.proxies.delete(key);
          this.retire(running);
          // Let the old listeners release their ports before re-binding the same ones.
          await running.proxy.stopListening();
          running = undefined;
        }
        if (!running) {
          try {
            running = await this.openProxy(sp, addresses, listenKey);
          } catch (err) {
            this.errors.set(key, err as KubeProxyError);
            this.log.error({ err, servicePort: key }, 'cannot start proxy for service port');
            continue;
          }
          this.proxies.set(key, running);
          this.errors.delete(key);
          this.log.info(
            { servicePort: key, ports: running.proxy.boundPorts() },
            'opened proxy for service port',
          );
        }
        running.servicePort = sp;
        const cat = categorizeEndpoints(
          snapshot.endpoints.get(key) ?? [],
          sp,
          snapshot.nodeName,
          snapshot.nodeLabels,
        );
        const endpoints = sp.internalPolicyLocal ? cat.localEndpoints : cat.clusterEndpoints;
        running.balancer.setEndpoints(endpoints, sp.stickyMaxAgeSeconds);
        running.balancer.expireAffinity();
        if (running.proxy instanceof UdpServiceProxy)
          running.proxy.dropSessionsNotIn((e) => running.balancer.has(e));
      }
      this.pruneDraining();

      if (!this.opts.bindOnly && this.opts.iptables) await this.syncPortalRules();
      if (this.opts.serviceHealth) await syncServiceHealth(this.opts.serviceHealth, snapshot);
      const end = this.clock.now();
      result = { kind: 'full', ok: true, durationMs: end - start };
      this.syncSucceeded('full', start, end, snapshot);
    } catch (err) {
      result = { kind: 'full', ok: false, durationMs: this.clock.now() - start, error: err };
      if (!this.opts.bindOnly)
        this.opts.metrics?.iptablesRestoreFailuresTotal.inc({ ip_family: this.family });
      this.log.error({ err, family: this.family }, 'failed to sync userspace proxy rules');
      this.retryAfterFailure();
    }
    this.recordResult(result);
    return result;
  }

  private async syncPortalRules(): Promise<void> {
    const iptables = this.opts.iptables!;
    const targets: PortalTarget[] = [];
    for (const running of this.proxies.values()) {
      targets.push({ servicePort: running.servicePort, proxyPort: running.proxy.boundPorts()[0]! });
    }
    const family = this.family === 'IPv6' ? 'ipv6' : 'ipv4';
    await iptables.restore(buildPortalRuleset(family, targets));
    // Prepending in reverse leaves the jumps in their listed order (portals before node ports).
    for (const jump of [...USERSPACE_JUMP_RULES].reverse())
      await iptables.ensureRule('prepend', 'nat', jump.builtin, jump.rule);
  }
}
