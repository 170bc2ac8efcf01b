import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/** What the informer wiring calls on a proxier; every mode (and a dual-stack pair) implements it. */
export interface ProxyHandler {
  /** A Service appeared. */
  onServiceAdd(svc: Wire<V1Service>): void;
  /** A Service changed. */
  onServiceUpdate(oldSvc: Wire<V1Service>, svc: Wire<V1Service>): void;
  /** A Service went away. */
  onServiceDelete(svc: Wire<V1Service>): void;
  /** The first full list of Services has been delivered. */
  onServicesSynced(): void;
  /** An EndpointSlice appeared. */
  onEndpointSliceAdd(slice: Wire<V1EndpointSlice>): void;
  /** An EndpointSlice changed. */
  onEndpointSliceUpdate(oldSlice: Wire<V1EndpointSlice>, slice: Wire<V1EndpointSlice>): void;
  /** An EndpointSlice went away. */
  onEndpointSliceDelete(slice: Wire<V1EndpointSlice>): void;
  /** The first full list of EndpointSlices has been delivered. */
  onEndpointSlicesSynced(): void;
  /** This proxier's own Node, as it is now (labels, podCIDRs, addresses). */
  onNode(node: Wire<V1Node>): void;
}

/** Fans events out to one proxier per IP family (dual-stack). */
export function multiFamilyHandler(handlers: readonly ProxyHandler[]): ProxyHandler {
  const each = (fn: (h: ProxyHandler) => void) => {
    for (const h of handlers) fn(h);
  };
  return {
    onServiceAdd: (s) => each((h) => h.onServiceAdd(s)),
    onServiceUpdate: (o, s) => each((h) => h.onServiceUpdate(o, s)),
    onServiceDelete: (s) => each((h) => h.onServiceDelete(s)),
    onServicesSynced: () => each((h) => h.onServicesSynced()),
    onEndpointSliceAdd: (s) => each((h) => h.onEndpointSliceAdd(s)),
    onEndpointSliceUpdate: (o, s) => each((h) => h.onEndpointSliceUpdate(o, s)),
    onEndpointSliceDelete: (s) => each((h) => h.onEndpointSliceDelete(s)),
    onEndpointSlicesSynced: () => each((h) => h.onEndpointSlicesSynced()),
    onNode: (n) => each((h) => h.onNode(n)),
  };
}
