import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ApiError, badRequest, notFound } from './api-error';
import type { KubeObject } from './kube-object';
import { isOnThisMachine } from './local-address';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

/**
 * How the API server reaches kubelets (kube-apiserver's --kubelet-* flags). The kubelet port
 * serves TLS; like kube-apiserver without --kubelet-certificate-authority, the serving
 * certificate is not verified.
 */
export interface KubeletClientOptions {
  /** Default 'https', as the kubelet's port 10250 speaks; 'http' for a kubelet server without TLS. */
  scheme?: 'https' | 'http';
  /** Client certificate and key (PEM) presented to kubelets (--kubelet-client-certificate/-key). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /**
   * Node address types in order of preference (--kubelet-preferred-address-types). Default
   * InternalIP, ExternalIP, InternalDNS, ExternalDNS, Hostname: IPs first, so node names need
   * not resolve.
   */
  preferredAddressTypes?: string[];
  /**
   * Opens the byte stream to a kubelet in place of a TCP connection to its node address and
   * port, as kube-apiserver's egress selector sends kubelet traffic through a tunnel: for a
   * kubelet this host cannot route to (one in a network namespace). TLS still runs over it.
   * Without it, only kubelets at this machine's own addresses are reached (see isOnThisMachine).
   */
  dial?: (location: KubeletLocation) => Duplex;
}

/** Where a node's kubelet serves (from its Node status), for logs, exec and proxy. */
export interface KubeletLocation {
  scheme: 'https' | 'http';
  host: string;
  port: number;
}

const defaultAddressTypes = ['InternalIP', 'ExternalIP', 'InternalDNS', 'ExternalDNS', 'Hostname'];

interface NodeView {
  status?: {
    addresses?: { type?: string; address?: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/**
 * Where the kubelet of a pod's node listens, the way kube-apiserver finds it: the pod's
 * spec.nodeName, that Node's first address of a preferred type, and
 * status.daemonEndpoints.kubeletEndpoint.Port.
 */
export function kubeletLocationForPod(
  registry: ResourceRegistry,
  pod: KubeObject,
  options: KubeletClientOptions = {},
): KubeletLocation {
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  return kubeletLocationForNode(registry, nodeName, options);
}

/** Where a node's kubelet listens: its first address of a preferred type and its kubelet port. */
export function kubeletLocationForNode(
  registry: ResourceRegistry,
  nodeName: string,
  options: KubeletClientOptions = {},
): KubeletLocation {
  const nodes = findResourceType('', 'v1', 'nodes') as ResourceType;
  const node = registry.find(nodes, undefined, nodeName) as (KubeObject & NodeView) | undefined;
  if (!node) throw notFound('nodes', '', nodeName);
  const addresses = node.status?.addresses ?? [];
  let host: string | undefined;
  for (const type of options.preferredAddressTypes ?? defaultAddressTypes) {
    host = addresses.find((a) => a.type === type && a.address)?.address;
    if (host) break;
  }
  if (!host)
    throw new ApiError(503, 'ServiceUnavailable', `no preferred addresses found; known addresses: []`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  if (!options.dial && !isOnThisMachine(host))
    throw new ApiError(
      503,
      'ServiceUnavailable',
      `node ${nodeName}'s kubelet address ${host} is not on this machine; the in-process API server only dials kubelets here (give kubelet.dial to reach one in a network namespace)`,
    );
  return { scheme: options.scheme ?? 'https', host, port };
}

/** An ordinary request to the kubelet (logs); resolves with its response. */
export function kubeletGet(
  location: KubeletLocation,
  path: string,
  options: KubeletClientOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const send = location.scheme === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send({
      host: location.host,
      port: location.port,
      path,
      method: 'GET',
      signal,
      ...(location.scheme === 'https'
        ? { rejectUnauthorized: false, cert: options.cert, key: options.key }
        : {}),
      // Through the dialer: the same stream (TLS included) an upgrade request gets.
      ...(options.dial ? { createConnection: () => kubeletSocket(location, options) } : {}),
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/** A raw connection to the kubelet, for upgrade requests proxied byte for byte. */
export function kubeletSocket(location: KubeletLocation, options: KubeletClientOptions): Duplex {
  const dialed = options.dial?.(location);
  if (location.scheme === 'http') return dialed ?? netConnect({ host: location.host, port: location.port });
  return tlsConnect({
    ...(dialed ? { socket: dialed } : { host: location.host, port: location.port }),
    rejectUnauthorized: false,
    cert: options.cert,
    key: options.key,
    // No SNI for IP literals (Node warns); the certificate is not checked anyway.
    ...(/^[\d.:]+$/.test(location.host) ? {} : { servername: location.host }),
  });
}
