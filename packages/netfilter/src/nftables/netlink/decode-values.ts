// Set keys and map values read back from the kernel, spelled as `nft -j list` spells them (the
// model's element parts): addresses as text, ports and integers in decimal, protocols by name.

import ipaddr from 'ipaddr.js';
import { dataTypeNamed } from './set-types';

const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'ipv6-icmp',
  132: 'sctp',
  136: 'udplite',
};

function hostU32(bytes: Buffer): number {
  return bytes.readUInt32LE(0);
}

/** One value of one data type. */
export function decodeDataValue(type: string, bytes: Buffer): string {
  switch (type) {
    case 'ipv4_addr':
      return ipaddr.fromByteArray([...bytes.subarray(0, 4)]).toString();
    case 'ipv6_addr':
      return ipaddr.fromByteArray([...bytes.subarray(0, 16)]).toString();
    case 'inet_proto': {
      const number = bytes.readUInt8(0);
      return PROTOCOL_NAMES[number] ?? String(number);
    }
    case 'inet_service':
      return String(bytes.readUInt16BE(0));
    case 'ether_type':
      return String(bytes.readUInt16LE(0));
    case 'nf_proto':
      return String(bytes.readUInt8(0));
    case 'ether_addr':
      return [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    case 'ifname': {
      const end = bytes.indexOf(0);
      return bytes.toString('utf8', 0, end === -1 ? bytes.length : end);
    }
    case 'mark':
    case 'iface_index':
    case 'ct_state':
      return String(hostU32(bytes));
    default:
      return bytes.toString('hex');
  }
}

/** A key or value of a (possibly concatenated) type: one part per type, each 4-byte aligned. */
export function decodeParts(typeText: string, bytes: Buffer): string[] {
  const types = typeText.split('.').map((t) => t.trim());
  if (types.length === 1) return [decodeDataValue(types[0] as string, bytes)];
  const parts: string[] = [];
  let offset = 0;
  for (const type of types) {
    const length = dataTypeNamed('type', type).length;
    parts.push(decodeDataValue(type, bytes.subarray(offset, offset + length)));
    offset += (length + 3) & ~3;
  }
  return parts;
}
