import { isIPv4, isIPv6 } from 'node:net';

/** IPv4's four octets; the caller has checked the text with isIPv4. */
function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** The 16-bit groups of one side of an IPv6 "::" (a trailing dotted IPv4 is two groups). */
function ipv6Groups(part: string): number[] {
  if (part === '') return [];
  const groups: number[] = [];
  for (const piece of part.split(':')) {
    if (isIPv4(piece)) {
      const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(piece);
      groups.push((a << 8) | b, (c << 8) | d);
    } else groups.push(Number.parseInt(piece, 16));
  }
  return groups;
}

/**
 * A SubjectAltName iPAddress's octets: 4 for IPv4, 16 for IPv6 (a zone, `%eth0`, is not part of
 * the address). Undefined when `text` is neither (Node's isIP decides, as the caller did).
 */
export function ipAddressBytes(text: string): Buffer | undefined {
  if (isIPv4(text)) return Buffer.from(ipv4Bytes(text));
  if (!isIPv6(text)) return undefined;
  const address = text.split('%')[0] ?? '';
  const [head = '', tail] = address.split('::');
  const front = ipv6Groups(head);
  const back = tail === undefined ? [] : ipv6Groups(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(group, 2 * i);
  return bytes;
}
