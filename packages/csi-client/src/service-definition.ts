import type { ServiceDefinition } from '@grpc/grpc-js';
import { grpcServiceDefinition } from '@nodeagent/plugin-api/codec';
import { serviceMethods } from './generated/service-methods';
import { messageType } from './message-type';

/** A service of the CSI spec (`csi.v1.Node`) as grpc-js serves and calls it, from the precompiled codecs. */
export function serviceDefinition(service: string): ServiceDefinition {
  const methods = serviceMethods[service];
  if (!methods) throw new TypeError(`no service ${service}`);
  return grpcServiceDefinition(service, methods, messageType);
}
