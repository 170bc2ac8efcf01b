import { getSystemErrorName } from 'node:util';

/**
 * `ENOENT` for 2 (or -2, as the kernel puts it in nlmsgerr); `E<n>` when Node does not know the
 * number (it answers `Unknown system error -<n>` for those, and throws for ones out of range).
 */
export function errnoName(errno: number): string {
  const fallback = `E${Math.abs(errno)}`;
  try {
    const name = getSystemErrorName(-Math.abs(errno));
    return name.startsWith('Unknown') ? fallback : name;
  } catch {
    return fallback;
  }
}
