import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { protoServiceDefinition } from '../devicemanager/proto-service';
import { podResourcesV1Proto } from './podresources-api';

let service: ServiceDefinition | undefined;

/** v1.PodResourcesLister as @grpc/grpc-js serves it. */
export function podResourcesListerService(): ServiceDefinition {
  service ??= protoServiceDefinition(protobuf.parse(podResourcesV1Proto).root, 'v1', 'PodResourcesLister');
  return service;
}
