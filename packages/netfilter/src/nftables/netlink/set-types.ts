// How a set's `type ipv4_addr . inet_proto . inet_service` is declared to the kernel: nft's
// datatype numbers (NFTA_SET_KEY_TYPE, 6 bits per concatenated part, first part highest), the
// key length (each concatenated part padded to 4 bytes) and the byte order nft records.

import { InvalidFieldError } from '../../errors';
import { ByteOrder } from './userdata';

export interface DataTypeInfo {
  name: string;
  /** nft's datatype number (enum datatypes). */
  id: number;
  /** Bytes one value takes in a register. */
  length: number;
  byteOrder: number;
}

const TYPES: readonly DataTypeInfo[] = [
  { name: 'verdict', id: 1, length: 4, byteOrder: ByteOrder.INVALID },
  { name: 'nf_proto', id: 2, length: 1, byteOrder: ByteOrder.HOST },
  { name: 'ipv4_addr', id: 7, length: 4, byteOrder: ByteOrder.BIG },
  { name: 'ipv6_addr', id: 8, length: 16, byteOrder: ByteOrder.BIG },
  { name: 'ether_addr', id: 9, length: 6, byteOrder: ByteOrder.BIG },
  { name: 'ether_type', id: 10, length: 2, byteOrder: ByteOrder.HOST },
  { name: 'inet_proto', id: 12, length: 1, byteOrder: ByteOrder.BIG },
  { name: 'inet_service', id: 13, length: 2, byteOrder: ByteOrder.BIG },
  { name: 'mark', id: 19, length: 4, byteOrder: ByteOrder.HOST },
  // As typeof slots see it: numgen results and the like, 32-bit host-order integers.
  { name: 'integer', id: 4, length: 4, byteOrder: ByteOrder.HOST },
  { name: 'iface_index', id: 20, length: 4, byteOrder: ByteOrder.HOST },
  { name: 'ct_state', id: 26, length: 4, byteOrder: ByteOrder.HOST },
  { name: 'ifname', id: 41, length: 16, byteOrder: ByteOrder.HOST },
];

const BY_NAME = new Map(TYPES.map((t) => [t.name, t]));
const TYPE_BITS = 6;

export function dataTypeNamed(field: string, name: string): DataTypeInfo {
  const info = BY_NAME.get(name);
  if (!info)
    throw new InvalidFieldError(
      field,
      name,
      `is not a data type the netlink client declares (${[...BY_NAME.keys()].join(', ')})`,
    );
  return info;
}

export function dataTypeById(id: number): DataTypeInfo | undefined {
  return TYPES.find((t) => t.id === id);
}

export interface SetTypeDeclaration {
  parts: readonly DataTypeInfo[];
  /** NFTA_SET_KEY_TYPE / NFTA_SET_DATA_TYPE. */
  id: number;
  /** NFTA_SET_KEY_LEN / NFTA_SET_DATA_LEN in bytes. */
  length: number;
  concatenated: boolean;
}

/** `ipv4_addr . inet_proto . inet_service` → its kernel declaration. */
export function declareSetType(field: string, text: string): SetTypeDeclaration {
  const names = text.split('.').map((part) => part.trim());
  if (names.some((n) => n === ''))
    throw new InvalidFieldError(field, text, 'is not a type or a `.`-joined concatenation of types');
  const parts = names.map((name) => dataTypeNamed(field, name));
  if (parts.length * TYPE_BITS > 32)
    throw new InvalidFieldError(field, text, 'concatenates more types than nft can describe (5)');
  let id = 0;
  for (const part of parts) id = ((id << TYPE_BITS) | part.id) >>> 0;
  const concatenated = parts.length > 1;
  const length = concatenated
    ? parts.reduce((sum, p) => sum + ((p.length + 3) & ~3), 0)
    : (parts[0] as DataTypeInfo).length;
  return { parts, id, length, concatenated };
}

/** The type text of a declaration read back (the inverse of declareSetType). */
export function setTypeText(id: number, length: number): string | undefined {
  const names: string[] = [];
  let rest = id >>> 0;
  while (rest !== 0) {
    const info = dataTypeById(rest & ((1 << TYPE_BITS) - 1));
    if (!info) return undefined;
    names.unshift(info.name);
    rest >>>= TYPE_BITS;
  }
  if (names.length === 0) return undefined;
  const declared = declareSetType('type', names.join(' . '));
  return declared.length === length ? names.join(' . ') : undefined;
}
