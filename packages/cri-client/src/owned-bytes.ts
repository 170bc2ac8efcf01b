/**
 * A copy of `source[0, length)` in a store of its own, for bytes kept for minutes. Buffer.from and
 * Buffer.allocUnsafe place small buffers in Node's shared pool (64 KiB chunks on Node 24, 8 KiB
 * before), so a few hundred cached bytes would keep a whole chunk alive with them.
 */
export function ownedBytes(source: Uint8Array, length: number = source.length): Buffer {
  const own = Buffer.allocUnsafeSlow(length);
  own.set(source.subarray(0, length));
  return own;
}
