// `@nodeagent/informer/protobuf`: the protobuf decoders on their own (the Informer and
// KubeListerWatcher take `protobuf: { omit }` at the root). Kept off the root entry, which
// holds the informer and its parts (tools/build/root-exports.test.ts).
export {
  type DecodedList,
  type DecodedWatchEvent,
  type DecodeFlags,
  decodeEnvelopedObject,
  decodeFlags,
  decodeList,
  decodeWatchEvent,
  FrameReader,
  type HeldObjects,
  ListStreamReader,
  OMITTABLE_PATHS,
  type OmittablePath,
  ProtobufDecodeError,
  type ProtobufWireOptions,
} from './protobuf';
