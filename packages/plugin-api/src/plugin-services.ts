import type { ServiceDefinition } from '@grpc/grpc-js';
import { codecFunctions, enumValues } from './generated/codec-functions';
import { serviceMethods } from './generated/service-methods';
import { precompiledMessageTypes } from './message-type';
import { PluginApiError } from './plugin-api-error';
import { grpcServiceDefinition, lazyMessageCodec, type MessageCodec } from './service-definition';

/** A message type of this package's APIs by full name (`v1beta1.ContainerAllocateResponse`), made once. */
export const pluginMessageType = /* @__PURE__ */ precompiledMessageTypes(
  codecFunctions,
  enumValues,
  'node-plugin API',
);

/** The full names of this package's services (`k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin`...). */
export function pluginServiceNames(): string[] {
  return Object.keys(serviceMethods);
}

/**
 * A service of this package's APIs by full name, as grpc-js serves and calls it; throws
 * PluginApiError `UNKNOWN_SERVICE` for a name that is none of them.
 */
export function pluginServiceDefinition<T extends ServiceDefinition = ServiceDefinition>(
  fullName: string,
): T {
  const methods = Object.hasOwn(serviceMethods, fullName) ? serviceMethods[fullName] : undefined;
  if (!methods)
    throw new PluginApiError(
      'UNKNOWN_SERVICE',
      fullName,
      `no node-plugin API service ${fullName} (known: ${pluginServiceNames().join(', ')})`,
    );
  return grpcServiceDefinition(fullName, methods, pluginMessageType) as T;
}

/**
 * The codec of one message type of this package's APIs by full name, for bytes kept outside a
 * call (the device manager's checkpoint keeps ContainerAllocateResponse so). An unknown name
 * throws PluginApiError `UNKNOWN_MESSAGE_TYPE` on first use.
 */
export function messageCodec<T = Record<string, unknown>>(fullName: string): MessageCodec<T> {
  return lazyMessageCodec<T>(fullName, pluginMessageType);
}
