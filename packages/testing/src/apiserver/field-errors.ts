import type { StatusCause } from './api-error';

/*
 * The StatusCause each kind of apimachinery field.Error turns into: the reason its type maps to
 * and the message ErrorBody prints (type, then the bad value where that type shows one, then
 * the detail). Values are quoted as Go's %q would print the strings used here.
 */

const quoted = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : String(value);

/** field.Invalid: `Invalid value: "v": detail`. */
export const invalidCause = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${quoted(value)}: ${detail}`,
});

/** field.Required: `Required value: detail` (just `Required value` without one). */
export const requiredCause = (field: string, detail = ''): StatusCause => ({
  reason: 'FieldValueRequired',
  field,
  message: detail ? `Required value: ${detail}` : 'Required value',
});

/** field.Forbidden: `Forbidden: detail`. */
export const forbiddenCause = (field: string, detail: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${detail}`,
});

/** field.NotSupported: `Unsupported value: "v": supported values: "a", "b"` (in the order given). */
export const notSupportedCause = (
  field: string,
  value: unknown,
  supported: readonly string[],
): StatusCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${quoted(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** field.NotFound: `Not found: "v"`. */
export const notFoundCause = (field: string, value: unknown): StatusCause => ({
  reason: 'FieldValueNotFound',
  field,
  message: `Not found: ${quoted(value)}`,
});

/** field.TooLong: the value is never printed: `Too long: may not be more than N bytes`. */
export const tooLongCause = (field: string, max: number): StatusCause => ({
  reason: 'FieldValueTooLong',
  field,
  message: `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`,
});

/** field.TooMany: `Too many: <count>: must have at most N items`. */
export const tooManyCause = (field: string, count: number, max: number): StatusCause => ({
  reason: 'FieldValueTooMany',
  field,
  message: `Too many: ${count}: must have at most ${max} items`,
});

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;

/** validation.IsDNS1123Label's complaints about a value (none when it is one). */
export function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!new RegExp(`^${DNS1123_LABEL_FMT}$`).test(value))
    errs.push(
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL_FMT}')`,
    );
  return errs;
}

/** validation.IsDNS1123Subdomain's complaints about a value (none when it is one). */
export function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`).test(value))
    errs.push(
      `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN_FMT}')`,
    );
  return errs;
}
