import type { ServiceDefinition } from '@grpc/grpc-js';
import { messageCodec } from '../codec';
import { criMethods } from '../generated/methods';
import type { MessageTypeName } from '../generated/types';

/** grpc-js service definitions of both CRI services, built from the generated method table. */
export function criServiceDefinitions(): {
  RuntimeService: ServiceDefinition;
  ImageService: ServiceDefinition;
} {
  const defs: Record<string, Record<string, unknown>> = { RuntimeService: {}, ImageService: {} };
  for (const m of criMethods) {
    const req = messageCodec<unknown>(m.requestType as MessageTypeName);
    const res = messageCodec<unknown>(m.responseType as MessageTypeName);
    (defs[m.service] as Record<string, unknown>)[m.name] = {
      path: `/runtime.v1.${m.service}/${m.name}`,
      requestStream: false,
      responseStream: m.serverStream,
      requestSerialize: (v: unknown) => req.encode(v as never),
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (v: unknown) => res.encode(v as never),
      responseDeserialize: (b: Buffer) => res.decode(b),
      originalName: m.name,
    };
  }
  return defs as unknown as { RuntimeService: ServiceDefinition; ImageService: ServiceDefinition };
}
