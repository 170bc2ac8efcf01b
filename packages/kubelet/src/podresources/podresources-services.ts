import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { podResourcesV1Proto } from './podresources-api';

// Defaults filled in and int64 as numbers: answers are plain objects.
const decodeOptions: protobuf.IConversionOptions = {
  defaults: true,
  longs: Number,
  arrays: true,
  objects: true,
};

let service: ServiceDefinition | undefined;

/** v1.PodResourcesLister as @grpc/grpc-js serves it. */
export function podResourcesListerService(): ServiceDefinition {
  if (service) return service;
  const lister = protobuf.parse(podResourcesV1Proto).root.lookupService('v1.PodResourcesLister');
  const definition: Record<string, ServiceDefinition[string]> = {};
  for (const method of Object.values(lister.methods)) {
    method.resolve();
    const request = method.resolvedRequestType as protobuf.Type;
    const response = method.resolvedResponseType as protobuf.Type;
    definition[method.name] = {
      path: `/v1.PodResourcesLister/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: object) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), decodeOptions),
      responseSerialize: (value: object) => Buffer.from(response.encode(response.fromObject(value)).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), decodeOptions),
      originalName: method.name,
    };
  }
  service = definition;
  return definition;
}
