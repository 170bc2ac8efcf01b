// The few DER (X.690) encodings the kubelet's self-signed serving pair needs, written directly.
// Making the pair through @peculiar/x509 evaluated the library (ASN.1 schemas, tsyringe,
// reflect-metadata) at every first start and put its bytecode in the executable's trained code
// cache, deserialized at every start: the pair's main-thread CPU in a fresh Node 24 was 204-289 ms
// with the library, 14-47 ms without; the executable's start is measured by
// apps/kubelet/bench/startup.bench.ts. Each function returns the whole TLV.

/** A definite length: short form below 128, else the long form with the fewest bytes. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with identifier octet `tag` around `contents`. */
export function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** SEQUENCE of the already-encoded `items`. */
export function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, ...items);
}

/** SET of one already-encoded item (a Name's RelativeDistinguishedName; no sorting needed). */
export function setOf(item: Buffer): Buffer {
  return tlv(0x31, item);
}

/** A non-negative INTEGER below 2^31 (serial numbers 1 and 2, the version). */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest & 0xff);
    rest >>>= 8;
  } while (rest > 0);
  // A set top bit would read as negative: DER then puts a zero octet first.
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

/** OBJECT IDENTIFIER from its dotted form. */
export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let high = Math.floor(arc / 128); high > 0; high = Math.floor(high / 128)) {
      base128.unshift(0x80 | (high & 0x7f));
    }
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** NULL (the RSA algorithms' parameters). */
export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/** BOOLEAN TRUE (DER leaves a FALSE default out instead). */
export function booleanTrue(): Buffer {
  return Buffer.from([0x01, 0x01, 0xff]);
}

/** UTF8String. */
export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** OCTET STRING. */
export function octetString(bytes: Buffer): Buffer {
  return tlv(0x04, bytes);
}

/** BIT STRING of whole bytes (a signature, a public key). */
export function bitString(bytes: Buffer): Buffer {
  return tlv(0x03, Buffer.from([0]), bytes);
}

/**
 * A named-bit BIT STRING (KeyUsage) from its bits' numbers, DER's way: trailing zero bits left
 * out, their count in the first octet.
 */
export function namedBits(bits: readonly number[]): Buffer {
  const top = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return tlv(0x03, Buffer.from([7 - (top & 7)]), bytes);
}

/** `[n]` EXPLICIT around an encoded value (the version, the extensions). */
export function explicit(n: number, value: Buffer): Buffer {
  return tlv(0xa0 | n, value);
}

/** `[n]` IMPLICIT of a primitive value's contents (a GeneralName, a key identifier). */
export function implicitPrimitive(n: number, contents: Buffer): Buffer {
  return tlv(0x80 | n, contents);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * RFC 5280's Time: UTCTime (YYMMDDHHMMSSZ) through 2049, GeneralizedTime (YYYYMMDDHHMMSSZ) from
 * 2050; whole seconds.
 */
export function time(at: Date): Buffer {
  const year = at.getUTCFullYear();
  const rest =
    pad2(at.getUTCMonth() + 1) +
    pad2(at.getUTCDate()) +
    pad2(at.getUTCHours()) +
    pad2(at.getUTCMinutes()) +
    pad2(at.getUTCSeconds()) +
    'Z';
  if (year < 2050) return tlv(0x17, Buffer.from(pad2(year % 100) + rest, 'ascii'));
  return tlv(0x18, Buffer.from(String(year).padStart(4, '0') + rest, 'ascii'));
}
