import {
  type DbusValue,
  type DbusVariant,
  DbusWireError,
  splitSignature,
  WireReader,
  WireWriter,
} from './dbus-marshal';

/** D-Bus message types. */
export const MessageType = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
/** One of MessageType's codes, as the header's second byte carries it. */
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

/** One D-Bus message: its header fields and its body (one value per complete type of `signature`). */
export interface DbusMessage {
  type: MessageTypeCode;
  /** 0x1: no reply expected. */
  flags?: number;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature?: string;
  /** How many file descriptors (SCM_RIGHTS) go with the message; its 'h' values index them. */
  unixFds?: number;
  body?: DbusValue[];
}

// Header field codes and the type each one's variant carries.
const fields = [
  ['path', 1, 'o'],
  ['interface', 2, 's'],
  ['member', 3, 's'],
  ['errorName', 4, 's'],
  ['replySerial', 5, 'u'],
  ['destination', 6, 's'],
  ['sender', 7, 's'],
  ['signature', 8, 'g'],
  ['unixFds', 9, 'u'],
] as const;

/** The message's bytes: the fixed header, the header fields, padding to 8, the body. */
export function encodeMessage(message: DbusMessage): Buffer {
  const body = new WireWriter();
  const types = splitSignature(message.signature ?? '');
  const values = message.body ?? [];
  if (types.length !== values.length)
    throw new DbusWireError(
      `signature ${message.signature} wants ${types.length} values, got ${values.length}`,
    );
  for (const [i, type] of types.entries()) body.write(type, values[i] as DbusValue);

  const header = new WireWriter();
  header.u8(0x6c); // 'l': little-endian
  header.u8(message.type);
  header.u8(message.flags ?? 0);
  header.u8(1); // protocol version
  header.u32(body.length);
  header.u32(message.serial);
  const present: DbusValue[] = [];
  for (const [key, code, type] of fields) {
    const value = message[key];
    if (value === undefined || (key === 'signature' && value === '')) continue;
    present.push([code, { signature: type, value } satisfies DbusVariant]);
  }
  header.write('a(yv)', present);
  header.align(8);
  return Buffer.concat([header.bytes(), body.bytes()]);
}

/** How many bytes the message at the start of `buffer` takes, or undefined while its header is incomplete. */
export function messageLength(buffer: Buffer): number | undefined {
  if (buffer.length < 16) return undefined;
  if (buffer[0] !== 0x6c)
    throw new DbusWireError(`unsupported byte order ${JSON.stringify(String.fromCharCode(buffer[0]!))}`);
  const bodyLength = buffer.readUInt32LE(4);
  const fieldsLength = buffer.readUInt32LE(12);
  const headerLength = 16 + fieldsLength + ((8 - (fieldsLength % 8)) % 8);
  return headerLength + bodyLength;
}

/** Decodes one whole message (as messageLength measured it). */
export function decodeMessage(buffer: Buffer): DbusMessage {
  const reader = new WireReader(buffer, 12);
  const message: DbusMessage = {
    type: buffer[1] as MessageTypeCode,
    flags: buffer[2],
    serial: buffer.readUInt32LE(8),
  };
  for (const entry of reader.read('a(yv)') as [number, DbusVariant][]) {
    const field = fields.find(([, code]) => code === entry[0]);
    // Unknown header fields are skipped, as the specification says.
    if (field) (message as unknown as Record<string, DbusValue>)[field[0]] = entry[1].value;
  }
  const bodyStart = reader.offset + ((8 - (reader.offset % 8)) % 8);
  const body = new WireReader(buffer, bodyStart, bodyStart);
  message.body = splitSignature(message.signature ?? '').map((type) => body.read(type));
  return message;
}
