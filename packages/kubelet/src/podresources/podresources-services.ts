import type { ServiceDefinition } from '@grpc/grpc-js';
import { podResourcesV1Service } from '@nodeagent/plugin-api/podresources';

/** v1.PodResourcesLister as @grpc/grpc-js serves it (@nodeagent/plugin-api's definition). */
export function podResourcesListerService(): ServiceDefinition {
  return podResourcesV1Service;
}
