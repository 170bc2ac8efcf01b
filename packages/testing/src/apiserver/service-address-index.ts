import type { KubeObject } from './kube-object';
import { LowestFreeAllocator } from './lowest-free-allocator';
import type { ObjectStore } from './object-store';

const SERVICES = '/services';
const NODE_PORT_FIRST = 30000;
const NODE_PORT_LAST = 32767;

type Spec = { clusterIP?: unknown; ports?: { nodePort?: number }[] } | undefined;

/** The IPv4 address as a number, or undefined when `ip` is not one written canonically. */
function ipv4Number(ip: unknown): number | undefined {
  if (typeof ip !== 'string') return undefined;
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const octet = Number(p);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The ClusterIPs and NodePorts the stored Services hold, kept current from the store's change
 * stream, so allocating one costs amortized constant work instead of a scan of every Service
 * (which made creating N Services quadratic). Allocation is sequential, lowest free first:
 * ClusterIPs from the CIDR's .2 (.0 is the network, .1 the kubernetes Service, as upstream
 * reserves), NodePorts from 30000 to 32767.
 */
export class ServiceAddressIndex {
  readonly clusterIPs: LowestFreeAllocator;
  readonly nodePorts = new LowestFreeAllocator(NODE_PORT_FIRST, NODE_PORT_LAST);

  constructor(
    private readonly serviceCIDR: string,
    store: ObjectStore,
  ) {
    const [base, bits] = serviceCIDR.split('/');
    const start = ipv4Number(base) ?? 0;
    const size = 2 ** (32 - Number(bits));
    this.clusterIPs = new LowestFreeAllocator(start + 2, start + size - 2);
    for (const svc of store.list(SERVICES)) this.hold(svc, 1);
    store.subscribe((e) => {
      if (e.resource !== SERVICES) return;
      if (e.oldObject) this.hold(e.oldObject, -1);
      if (e.type !== 'DELETED') this.hold(e.object, 1);
    });
  }

  /** The lowest free ClusterIP; it stays free until a Service holding it is stored. */
  allocateClusterIP(): string {
    const n = this.clusterIPs.allocate();
    if (n === undefined) throw new Error(`service CIDR ${this.serviceCIDR} is exhausted`);
    this.clusterIPs.release(n);
    return dotted(n);
  }

  /** The `count` lowest free NodePorts; they stay free until a Service holding them is stored. */
  allocateNodePorts(count: number): number[] {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const p = this.nodePorts.allocate();
      if (p === undefined) {
        for (const q of ports) this.nodePorts.release(q);
        throw new Error('node port range 30000-32767 is exhausted');
      }
      ports.push(p);
    }
    for (const p of ports) this.nodePorts.release(p);
    return ports;
  }

  /** Counts (delta 1) or uncounts (-1) what `svc` holds. */
  private hold(svc: KubeObject, delta: 1 | -1): void {
    const spec = svc.spec as Spec;
    const ip = ipv4Number(spec?.clusterIP);
    if (ip !== undefined) {
      if (delta === 1) this.clusterIPs.take(ip);
      else this.clusterIPs.release(ip);
    }
    for (const p of spec?.ports ?? []) {
      if (!p.nodePort) continue;
      if (delta === 1) this.nodePorts.take(p.nodePort);
      else this.nodePorts.release(p.nodePort);
    }
  }
}
