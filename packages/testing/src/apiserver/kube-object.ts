import type { V1ObjectMeta } from '@kubernetes/client-node';

/**
 * core/v1 ObjectMeta as JSON: client-node's fields, times as the RFC 3339 strings the server
 * stores, and any other key a test writes kept (the server is loosely typed on purpose).
 */
export type ObjectMeta = Omit<V1ObjectMeta, 'creationTimestamp' | 'deletionTimestamp' | 'managedFields'> & {
  creationTimestamp?: string;
  deletionTimestamp?: string;
  [key: string]: unknown;
};

/** The loosely typed shape of every object the fake server stores. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** The event types this server's watches send. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
