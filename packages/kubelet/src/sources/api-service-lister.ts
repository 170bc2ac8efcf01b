import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, type InformerObject } from '@nodeagent/informer';
import type { ServiceLink, ServiceLister } from '../env/service-env';

/** A Service as the lister's informer holds it: wire JSON keeping only what service links read. */
export interface WireService extends InformerObject {
  /** The cluster IP and ports, the only spec fields the `<SVC>_SERVICE_*` variables need. */
  spec?: { clusterIP?: string; ports?: { name?: string; port: number; protocol?: string }[] };
}

/**
 * Keeps only what service links read (name, namespace, resourceVersion, cluster IP, ports), as
 * the informer's transform: a node agent watching every Service of a cluster should not hold
 * their selectors, annotations and status.
 */
export function stripServiceForLinks(service: WireService): WireService {
  const { name, namespace, resourceVersion, uid } = service.metadata ?? {};
  return {
    metadata: { name, namespace, resourceVersion, uid },
    spec: {
      clusterIP: service.spec?.clusterIP,
      ports: (service.spec?.ports ?? []).map(({ name: portName, port, protocol }) => ({
        name: portName,
        port,
        protocol,
      })),
    },
  };
}

/*
 * What a protobuf decode of a Service leaves out, never building it: all of it is what
 * stripServiceForLinks drops. (A watch's bookmark is decoded whole, its annotations included.)
 */
const SERVICE_PROTOBUF = {
  omit: ['metadata.managedFields', 'metadata.annotations', 'metadata.ownerReferences', 'status'],
} as const;

/** How the Service informer reads the API server. */
export interface ApiServiceListerOptions {
  /** Called with each list or watch error (the informer retries on its own). */
  onError?: (error: unknown) => void;
  /**
   * List and watch as protobuf, as upstream's kubelet does with its default contentType
   * (config/content-type.ts); a server answering JSON is still understood. Default: JSON.
   */
  protobuf?: boolean;
}

/**
 * Upstream's kubelet Service informer: every Service of the cluster, the source of the
 * `<SVC>_SERVICE_HOST`… variables (env/service-env.ts). In a large cluster this is the
 * kubelet's one cluster-sized list, so it is the one read as protobuf.
 */
export class ApiServiceLister implements ServiceLister {
  readonly informer: Informer<WireService>;

  constructor(kubeConfig: KubeConfig, options: ApiServiceListerOptions = {}) {
    this.informer = new Informer<WireService>({
      kubeConfig,
      resource: { apiVersion: 'v1', plural: 'services' },
      ...(options.protobuf ? { protobuf: SERVICE_PROTOBUF } : {}),
      transform: stripServiceForLinks,
      // Into the empty store as each Service of the first watch-list stream arrives, not held
      // apart and then swapped in whole: nothing reads it before it has synced (service links
      // wait for hasSynced), and the decoded Services then die young (44k Services: below).
      applyInitialEventsAsTheyArrive: true,
      onError: options.onError,
    });
  }

  /** Every Service the informer holds now (empty before the first list). */
  list(): readonly ServiceLink[] {
    return this.informer.list() as ServiceLink[];
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  /** Starts the list and watch of every Service in the cluster; errors go to the constructor's `onError`. */
  start(): void {
    this.informer.start();
  }

  /** Stops the watch. */
  async stop(): Promise<void> {
    await this.informer.stop();
  }
}
