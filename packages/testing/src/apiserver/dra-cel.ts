import { Environment } from '@marcbachmann/cel-js';
import { errorPredicate, FieldError } from '@nodeagent/primitives';
import { quantityValue } from './pod-qos';

/**
 * A device selector's CEL expression that cannot be used: it does not compile in the device
 * environment (`DRA_CEL_COMPILE`), fails while evaluated against a device (`DRA_CEL_RUNTIME`,
 * e.g. an attribute the device does not have) or yields no bool (`DRA_CEL_RESULT`). `value` is
 * the expression.
 */
export class DeviceSelectorError extends FieldError {
  constructor(
    code: 'DRA_CEL_COMPILE' | 'DRA_CEL_RUNTIME' | 'DRA_CEL_RESULT',
    field: string,
    expression: string,
    reason: string,
  ) {
    super(code, field, expression, reason, `${field}: ${reason} (expression ${JSON.stringify(expression)})`);
  }
}

/** Whether `e` is a DeviceSelectorError (of any build of this package). */
export const isDeviceSelectorError = errorPredicate(DeviceSelectorError);

/** A ResourceSlice device's attribute: exactly one of the typed values. */
export interface DeviceAttributeValue {
  int?: number;
  bool?: boolean;
  string?: string;
  version?: string;
}

/** What a selector sees of one device (a ResourceSlice's `spec.devices[]` entry and its driver). */
export interface SelectorDevice {
  driver: string;
  attributes?: Record<string, DeviceAttributeValue>;
  capacity?: Record<string, { value?: string }>;
  allowMultipleAllocations?: boolean;
}

/** A resource.Quantity inside CEL: the Kubernetes quantity library's comparison methods. */
class CelQuantity {
  constructor(readonly value: number) {}
}

function quantityOf(text: string): CelQuantity {
  const v = quantityValue(text);
  if (Number.isNaN(v)) throw new Error(`invalid quantity ${JSON.stringify(text)}`);
  return new CelQuantity(v);
}

const cmp = (a: CelQuantity, b: CelQuantity) => BigInt(Math.sign(a.value - b.value));

/**
 * The CEL environment of DRA device selectors (k8s.io/dynamic-resource-allocation/cel), on
 * @marcbachmann/cel-js: the variable `device` with `driver`, `attributes[domain][name]`,
 * `capacity[domain][name]` (a Quantity) and `allowMultipleAllocations`; the quantity library
 * (`quantity()`, `isQuantity()`, and on a Quantity `compareTo`, `isGreaterThan`, `isLessThan`,
 * `sign`, `asInteger`, `asApproximateFloat`). Version attributes are strings here (upstream's
 * `semver()` library is not offered: an expression calling it does not compile).
 */
const environment = new Environment({ homogeneousAggregateLiterals: false })
  .registerType('Quantity', CelQuantity)
  .registerVariable('device', 'map')
  .registerFunction('quantity(string): Quantity', quantityOf)
  .registerFunction('isQuantity(string): bool', (s: string) => !Number.isNaN(quantityValue(s)))
  .registerFunction('Quantity.compareTo(Quantity): int', cmp)
  .registerFunction(
    'Quantity.isGreaterThan(Quantity): bool',
    (a: CelQuantity, b: CelQuantity) => a.value > b.value,
  )
  .registerFunction(
    'Quantity.isLessThan(Quantity): bool',
    (a: CelQuantity, b: CelQuantity) => a.value < b.value,
  )
  .registerFunction('Quantity.sign(): int', (a: CelQuantity) => BigInt(Math.sign(a.value)))
  .registerFunction('Quantity.asInteger(): int', (a: CelQuantity) => BigInt(Math.trunc(a.value)))
  .registerFunction('Quantity.asApproximateFloat(): double', (a: CelQuantity) => a.value);

/** Upstream's CELSelectorExpressionMaxLength. */
export const CEL_SELECTOR_MAX_LENGTH = 10 * 1024;

/** Domains an expression looks up literally: an unknown domain is an empty map, as upstream. */
function referencedDomains(expression: string): { attributes: string[]; capacity: string[] } {
  const out = { attributes: [] as string[], capacity: [] as string[] };
  for (const m of expression.matchAll(/device\s*\.\s*(attributes|capacity)\s*\[\s*"([^"]*)"\s*\]/g))
    out[m[1] as 'attributes' | 'capacity'].push(m[2] as string);
  return out;
}

/** Attribute names without a domain belong to the driver's (upstream's mapping). */
function byDomain<T, U>(driver: string, entries: Record<string, T>, map: (v: T) => U, wanted: string[]) {
  const out = new Map<string, Map<string, U>>();
  for (const d of wanted) out.set(d, new Map());
  for (const [qualified, v] of Object.entries(entries)) {
    const slash = qualified.lastIndexOf('/');
    const domain = slash < 0 ? driver : qualified.slice(0, slash);
    const name = slash < 0 ? qualified : qualified.slice(slash + 1);
    const inner = out.get(domain) ?? new Map<string, U>();
    inner.set(name, map(v));
    out.set(domain, inner);
  }
  return out;
}

function attributeValue(a: DeviceAttributeValue): unknown {
  if (a.int !== undefined) return BigInt(a.int);
  if (a.bool !== undefined) return a.bool;
  if (a.string !== undefined) return a.string;
  return a.version ?? null;
}

/** A compiled device selector. */
export interface DeviceSelector {
  readonly expression: string;
  /** Whether the device matches; a DeviceSelectorError when the expression fails on it. */
  matches(device: SelectorDevice): boolean;
}

/**
 * Compile one selector's expression (`field` names it in errors, e.g.
 * `spec.selectors[0].cel.expression`): a DeviceSelectorError `DRA_CEL_COMPILE` when it does not
 * parse, refers to something the environment lacks or cannot yield a bool.
 */
export function compileDeviceSelector(expression: string, field: string): DeviceSelector {
  if (expression.length > CEL_SELECTOR_MAX_LENGTH)
    throw new DeviceSelectorError(
      'DRA_CEL_COMPILE',
      field,
      expression,
      `may not be more than ${CEL_SELECTOR_MAX_LENGTH} bytes`,
    );
  let checked: { valid: boolean; type?: string; error?: { message: string } };
  try {
    checked = environment.check(expression);
  } catch (err) {
    checked = { valid: false, error: { message: (err as Error).message } };
  }
  if (!checked.valid)
    throw new DeviceSelectorError(
      'DRA_CEL_COMPILE',
      field,
      expression,
      `compilation failed: ${String(checked.error?.message).split('\n')[0]}`,
    );
  if (checked.type !== 'bool' && checked.type !== 'dyn')
    throw new DeviceSelectorError(
      'DRA_CEL_COMPILE',
      field,
      expression,
      `must evaluate to bool or the unknown type, not only to ${checked.type}`,
    );
  const parsed = environment.parse(expression);
  const domains = referencedDomains(expression);
  return {
    expression,
    matches(device: SelectorDevice): boolean {
      const input = {
        driver: device.driver,
        allowMultipleAllocations: device.allowMultipleAllocations ?? false,
        attributes: byDomain(device.driver, device.attributes ?? {}, attributeValue, domains.attributes),
        capacity: byDomain(
          device.driver,
          device.capacity ?? {},
          (c) => quantityOf(String(c.value ?? '0')),
          domains.capacity,
        ),
      };
      let result: unknown;
      try {
        result = parsed({ device: input });
      } catch (err) {
        throw new DeviceSelectorError(
          'DRA_CEL_RUNTIME',
          field,
          expression,
          `CEL runtime error: ${String((err as Error).message).split('\n')[0]}`,
        );
      }
      if (typeof result !== 'boolean')
        throw new DeviceSelectorError(
          'DRA_CEL_RESULT',
          field,
          expression,
          `expected a bool, got ${typeof result}`,
        );
      return result;
    },
  };
}
