import type { ServiceDefinition } from '@grpc/grpc-js';
import { protoServiceDefinition } from '../devicemanager/proto-service';

let service: ServiceDefinition | undefined;

/** v1.PodResourcesLister as @grpc/grpc-js serves it. */
export function podResourcesListerService(): ServiceDefinition {
  service ??= protoServiceDefinition('v1.PodResourcesLister');
  return service;
}
