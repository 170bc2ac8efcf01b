import { ParseError } from '../errors';

// resource.Quantity suffixes: binary (Ki..Ei), decimal SI (n..E) and plain exponents (1e3).
const binary: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimal: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const quantityPattern =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Parses a Kubernetes quantity ("100m", "1Gi", "1.5", "1e3") into its numeric value (cores, bytes). */
export function parseQuantity(text: string | number, field = 'quantity'): number {
  if (typeof text === 'number') return text;
  const match = quantityPattern.exec(text.trim());
  if (!match) throw new ParseError(field, text, 'not a resource quantity such as "100m" or "1Gi"');
  const base = Number(match[1]);
  if (match[3] !== undefined) return base * 10 ** Number(match[3]);
  const suffix = match[2] ?? '';
  const factor = binary[suffix] ?? decimal[suffix];
  return base * factor!;
}

/** CPU quantity in millicores, rounded up like Quantity.MilliValue. */
export function milliValue(text: string | number, field = 'quantity'): number {
  return Math.ceil(Math.round(parseQuantity(text, field) * 1e9) / 1e6);
}
