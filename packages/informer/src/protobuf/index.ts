export { decodeEnvelopedObject, type Envelope, PROTOBUF_MAGIC, readEnvelope } from './envelope';
export { ProtobufDecodeError } from './errors';
export { FrameReader } from './frame-reader';
export { type DecodedList, decodeList } from './list';
export { isProtobufContentType, PROTOBUF_ACCEPT, PROTOBUF_MEDIA_TYPE } from './media-type';
export { DECODE_ALL, type DecodeFlags, decodeFlags, OMITTABLE_PATHS, type OmittablePath } from './omit';
export { ProtoReader } from './reader';
export { type DecodedWatchEvent, decodeWatchEvent } from './watch-event';
export { type ProtobufWireOptions, protobufFlagsFor, protobufStatusText } from './wire-format';
