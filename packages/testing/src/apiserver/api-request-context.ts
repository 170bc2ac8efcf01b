import type { AccessReviews } from './access-reviews';
import type { FaultInjector } from './fault-injector';
import type { KubeletClientOptions } from './kubelet-connection';
import type { ObjectStore } from './object-store';
import type { PaginatedLists } from './paginated-list';
import type { PodStreamUpgrade } from './pod-proxy-subresources';
import type { UserInfo } from './request-authentication';
import type { ResourceRegistry } from './resource-registry';
import type { WatchHub } from './watch-hub';

/**
 * What the API server's request handlers share: the server's state and settings, built once by
 * startApiServer and passed to each handler instead of closing over it.
 */
export interface ApiRequestContext {
  readonly registry: ResourceRegistry;
  readonly store: ObjectStore;
  readonly watches: WatchHub;
  readonly lists: PaginatedLists;
  readonly faults: FaultInjector;
  /** Static tokens and grants for TokenReview and SubjectAccessReview. */
  readonly accessReviews: AccessReviews;
  /** Clock for timestamps (Table rows, token authentication). */
  readonly now: () => Date;
  /** How pods/log, exec, attach, portforward and nodes/proxy reach a node's kubelet. */
  readonly kubelet: KubeletClientOptions;
  /** Server-side watch timeout when the client sends no timeoutSeconds. */
  readonly defaultWatchTimeoutSeconds: number;
  /** Called with the authenticated user of every request. */
  readonly audit: ((user: UserInfo, method: string, path: string) => void) | undefined;
  /** Each exec/attach/portforward upgrade served, in order: what the client and the kubelet negotiated. */
  readonly podStreams: PodStreamUpgrade[];
  /** The server's own URL (known once it listens; discovery names its address). */
  url(): string;
  /** Whether a garbage collector runs: Foreground and Orphan deletes need one. */
  garbageCollectorRunning(): boolean;
}
