import { randomBytes } from 'node:crypto';

/** A random positive 128-bit certificate serial number, as hex (the top bit clear keeps it positive in DER). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}
