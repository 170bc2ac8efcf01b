/**
 * A dotted-quad IPv4 address in canonical form (no leading zeros, octets up to 255) as a signed
 * 32-bit number, a small integer in V8 on 64-bit without pointer compression (Node's builds):
 * no string per endpoint (32 B each, 8 MB at 250k endpoints). Anything else (IPv6, a form
 * unpackIPv4 would not give back as it was) is undefined, and kept as its string.
 */
export function packIPv4(ip: string): number | undefined {
  if (ip.length < 7 || ip.length > 15) return undefined;
  let value = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || octet > 255) return undefined;
      value = value * 256 + octet;
      if (i < ip.length) dots++;
      octet = -1;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = (octet < 0 ? 0 : octet * 10) + (c - 0x30);
      digits++;
    } else return undefined;
  }
  return dots === 3 ? value | 0 : undefined;
}

/** packIPv4's number as the address's text. */
export function unpackIPv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}
