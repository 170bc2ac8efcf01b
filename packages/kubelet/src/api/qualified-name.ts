// apimachinery validation.IsQualifiedName's and IsValidLabelValue's messages: annotation keys in
// a credential provider's tokenAttributes, registerWithTaints keys and values.
const nameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const nameRe = new RegExp(`^${nameFmt}$`);
const nameErr = `must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${nameFmt}')`;
const dns1123Fmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const dns1123Re = new RegExp(`^${dns1123Fmt}$`);
const dns1123Err = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${dns1123Fmt}')`;

/** The problems upstream finds with `value` as a qualified name ("prefix/name"); none when valid. */
export function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push('prefix part must be no more than 253 bytes');
      if (!dns1123Re.test(prefix)) errs.push(`prefix part ${dns1123Err}`);
    }
  } else {
    return [
      `a qualified name ${nameErr} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 bytes');
  if (!nameRe.test(name)) errs.push(`name part ${nameErr}`);
  return errs;
}

/** The problems upstream finds with `value` as a label value (IsValidLabelValue); none when valid. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 bytes');
  if (value.length > 0 && !nameRe.test(value))
    errs.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(${nameFmt})?')`,
    );
  return errs;
}
