// @nodeagent/plugin-api/codec: the precompiled-codec machinery behind every service here, for
// packages with .proto files of their own (scripts/generate-codecs.ts's generatedModules writes
// the codecs these functions load).

export { type MessageType, precompiledMessageTypes } from '../message-type';
export { pluginMessageType } from '../plugin-services';
export type { FieldInfo, GeneratedFunction, PrecompiledCodec, PrecompiledCodecs } from '../precompiled-codec';
export {
  grpcServiceDefinition,
  lazyMessageCodec,
  type ServiceMethods,
  TO_OBJECT,
} from '../service-definition';
