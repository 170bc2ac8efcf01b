const binarySuffixes = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const decimalSuffixes = ['k', 'M', 'G', 'T', 'P', 'E'] as const;

function canonical(value: number, base: number, suffixes: readonly string[]): string {
  let n = Math.trunc(value);
  if (n === 0) return '0';
  let index = -1;
  while (index + 1 < suffixes.length && n % base === 0) {
    n /= base;
    index++;
  }
  return index < 0 ? String(n) : `${n}${suffixes[index]}`;
}

/** resource.Quantity's BinarySI string for whole bytes: "100Mi", "99496Ki", "1536". */
export function formatBinaryQuantity(bytes: number): string {
  return canonical(bytes, 1024, binarySuffixes);
}

/** resource.Quantity's DecimalSI string for counts (inodes, pids): "5k", "4194304". */
export function formatDecimalQuantity(count: number): string {
  return canonical(count, 1000, decimalSuffixes);
}
