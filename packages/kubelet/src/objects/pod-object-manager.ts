import type { KubeConfig } from '@kubernetes/client-node';
import type { CoreV1Requests } from '@nodeagent/informer';
import { type Clock, systemClock } from '@nodeagent/primitives';
import type { ConfigMap, Pod, Secret } from '../api/pod-types';
import type { ObjectSource } from '../env/resolve-env';
import { GetObjectStore } from './get-object-store';
import { ObjectManager } from './object-manager';
import type { ObjectKind, ObjectStore } from './object-store';
import { podConfigMapNames, podSecretNames } from './referenced-objects';
import { type ObjectGetter, TtlObjectStore } from './ttl-object-store';
import { WatchObjectStore } from './watch-object-store';

/** KubeletConfiguration.configMapAndSecretChangeDetectionStrategy. */
export type ChangeDetectionStrategy = 'Watch' | 'Cache' | 'Get';

/** What a {@link PodObjectManager} reads the API server with, and how. */
export interface PodObjectManagerOptions {
  /** The configuration's strategy (default Watch, upstream's). */
  strategy?: ChangeDetectionStrategy;
  /** The API server: watches (Watch) go through it. */
  kubeConfig: KubeConfig;
  /** The GETs of Cache and Get. */
  core: Pick<CoreV1Requests, 'readNamespacedConfigMap' | 'readNamespacedSecret'>;
  /** Default: the system clock. */
  clock?: Clock;
  /** The kubelet's syncFrequency in ms: Watch stops a watch unread for five of them. */
  resyncIntervalMs: number;
  /** Cache: the TTL the Node's annotation sets now (objectTtlFromNode), undefined for the default (1 min). */
  nodeTtlMs?: () => number | undefined;
  /** Each failed list or watch of Watch (the reflector retries them). */
  onError?: (error: unknown) => void;
}

function store<T>(kind: ObjectKind, get: ObjectGetter<T>, options: PodObjectManagerOptions): ObjectStore<T> {
  const clock = options.clock ?? systemClock;
  switch (options.strategy ?? 'Watch') {
    case 'Get':
      return new GetObjectStore(get);
    case 'Cache':
      return new TtlObjectStore({ get, clock, nodeTtlMs: options.nodeTtlMs });
    default:
      return new WatchObjectStore({
        kind,
        kubeConfig: options.kubeConfig,
        clock,
        resyncIntervalMs: options.resyncIntervalMs,
        onError: options.onError,
      }) as unknown as ObjectStore<T>;
  }
}

/**
 * The kubelet's ConfigMap and Secret managers (upstream pkg/kubelet/configmap and
 * pkg/kubelet/secret over pkg/kubelet/util/manager) behind the one ObjectSource that volumes,
 * env, envFrom and image pull secrets read. The pod sync registers a pod before reading its
 * objects and unregisters it once it has terminated; what each strategy then costs the API server:
 * - Watch: a watch per referenced object, shared by the node's pods; no GET.
 * - Cache: a GET when a pod registers it and whenever the TTL has passed.
 * - Get: a GET at every read.
 */
export class PodObjectManager implements ObjectSource {
  readonly strategy: ChangeDetectionStrategy;
  private readonly configMaps: ObjectManager<ConfigMap>;
  private readonly secrets: ObjectManager<Secret>;

  constructor(options: PodObjectManagerOptions) {
    this.strategy = options.strategy ?? 'Watch';
    const { core } = options;
    const getConfigMap: ObjectGetter<ConfigMap> = async (namespace, name) =>
      (await core.readNamespacedConfigMap({ name, namespace })) as unknown as ConfigMap;
    const getSecret: ObjectGetter<Secret> = async (namespace, name) =>
      (await core.readNamespacedSecret({ name, namespace })) as unknown as Secret;
    this.configMaps = new ObjectManager(store('configMap', getConfigMap, options), podConfigMapNames);
    this.secrets = new ObjectManager(store('secret', getSecret, options), podSecretNames);
  }

  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.configMaps.getObject(namespace, name);
  }

  getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.getObject(namespace, name);
  }

  /** Upstream RegisterPod on both managers: never waits on the network. */
  registerPod(pod: Pod): void {
    this.secrets.registerPod(pod);
    this.configMaps.registerPod(pod);
  }

  /** Upstream UnregisterPod on both managers: the last pod of an object lets it go. */
  unregisterPod(pod: Pod): void {
    this.secrets.unregisterPod(pod);
    this.configMaps.unregisterPod(pod);
  }

  /** Ends every watch and timer. */
  async stop(): Promise<void> {
    await Promise.all([this.configMaps.stop(), this.secrets.stop()]);
  }
}
