import { CodedError } from '@nodeagent/primitives';

/**
 * Bytes that are not the protobuf message they claim to be: truncated, a length past its
 * message's end, a wire type that does not exist, or an object kind this decoder does not know.
 * Names what was being read and the byte offset, so a bad frame is findable in a capture.
 */
export class ProtobufDecodeError extends CodedError {
  constructor(
    /** What was being read: `varint`, `EndpointSlice`, `Unknown envelope`, ... */
    readonly what: string,
    /** Byte offset in the buffer being decoded. */
    readonly offset: number,
    detail: string,
  ) {
    super('PROTOBUF_DECODE', `protobuf ${what} at byte ${offset}: ${detail}`);
  }
}
