import { readFile } from 'node:fs/promises';
import { Counter, collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

// Upstream kube-proxy's /metrics (component-base legacyregistry) carries client_golang's process
// collector: on Linux process_cpu_seconds_total, process_max_fds, process_open_fds,
// process_resident_memory_bytes, process_start_time_seconds, process_virtual_memory_bytes,
// process_virtual_memory_max_bytes and (client_golang 1.20 on) process_network_receive/transmit_
// bytes_total. prom-client's default metrics give the first six under the same names and HELP
// texts (plus process_cpu_user/system_seconds_total, process_heap_bytes and nodejs_*, the Node
// counterpart of upstream's go_*); the rest are read here from /proc as procfs reads them.

/**
 * How often the event-loop lag series (nodejs_eventloop_lag_*) sample the loop, in ms: once a
 * second, as the kubelet does, not prom-client's default 10 ms timer (100 wake-ups a second of an
 * idle process).
 */
const EVENT_LOOP_SAMPLE_MS = 1000;

/** RLIM_INFINITY as client_golang reports it: uint64 max as a float (1.8446744073709552e+19). */
const UNLIMITED = 2 ** 64;

/** The soft "Max address space" of /proc/self/limits text, in bytes; undefined when absent. */
export function addressSpaceLimit(limits: string): number | undefined {
  const line = limits.split('\n').find((l) => l.startsWith('Max address space'));
  const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
  if (soft === undefined) return undefined;
  if (soft === 'unlimited') return UNLIMITED;
  const n = Number(soft);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * IpExt InOctets and OutOctets of /proc/self/net/netstat text (what procfs's Netstat gives
 * client_golang: the counters of the process's network namespace); undefined when absent.
 */
export function ipExtOctets(netstat: string): { in: number; out: number } | undefined {
  const lines = netstat.split('\n').filter((l) => l.startsWith('IpExt:'));
  const names = lines[0]?.split(/\s+/);
  const values = lines[1]?.split(/\s+/);
  if (!names || !values) return undefined;
  const inAt = names.indexOf('InOctets');
  const outAt = names.indexOf('OutOctets');
  if (inAt < 0 || outAt < 0) return undefined;
  const octets = { in: Number(values[inAt]), out: Number(values[outAt]) };
  return Number.isFinite(octets.in) && Number.isFinite(octets.out) ? octets : undefined;
}

/** The file's text, or undefined when it cannot be read (no procfs): the series then reads 0. */
async function procText(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/**
 * Registers the process metrics upstream kube-proxy's /metrics carries on `registry` (see the
 * top of this file); the daemon calls it once for its registry. Calling it twice on one registry
 * throws prom-client's duplicate-name error.
 */
export function collectProcessMetrics(registry: Registry, procDir = '/proc/self'): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  new Gauge({
    name: 'process_virtual_memory_max_bytes',
    help: 'Maximum amount of virtual memory available in bytes.',
    registers: [registry],
    async collect() {
      const text = await procText(`${procDir}/limits`);
      const limit = text === undefined ? undefined : addressSpaceLimit(text);
      if (limit === undefined) this.reset();
      else this.set(limit);
    },
  });
  const octets = async () => {
    const text = await procText(`${procDir}/net/netstat`);
    return text === undefined ? undefined : ipExtOctets(text);
  };
  const octetCounter = (name: string, help: string, pick: (o: { in: number; out: number }) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const o = await octets();
        this.reset();
        if (o !== undefined) this.inc(pick(o));
      },
    });
  octetCounter(
    'process_network_receive_bytes_total',
    'Number of bytes received by the process over the network.',
    (o) => o.in,
  );
  octetCounter(
    'process_network_transmit_bytes_total',
    'Number of bytes sent by the process over the network.',
    (o) => o.out,
  );
}
