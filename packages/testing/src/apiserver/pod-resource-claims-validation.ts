import type { StatusCause } from './api-error';
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  invalidCause,
  notFoundCause,
  requiredCause,
} from './field-errors';

type Obj = Record<string, unknown>;

const objects = (v: unknown): Obj[] =>
  Array.isArray(v) ? v.filter((x): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];

const duplicateCause = (field: string, value: string): StatusCause => ({
  reason: 'FieldValueDuplicate',
  field,
  message: `Duplicate value: ${JSON.stringify(value)}`,
});

/** The Go %v of a PodResourceClaim as field.Invalid prints it (pointers shown as set or nil). */
function podClaimValue(pc: Obj): string {
  const ptr = (v: unknown) => (typeof v === 'string' ? `(*string)("${v}")` : '(*string)(nil)');
  return `core.PodResourceClaim{Name:"${String(pc.name ?? '')}", ResourceClaimName:${ptr(pc.resourceClaimName)}, ResourceClaimTemplateName:${ptr(pc.resourceClaimTemplateName)}}`;
}

/**
 * validatePodResourceClaims and validateResourceClaimNames (pkg/apis/core/validation, DRA GA in
 * v1.34): each spec.resourceClaims entry has a unique DNS-1123 label name, exactly one of
 * resourceClaimName and resourceClaimTemplateName, and (for a template) a generated claim name
 * `<pod>-<claim>` that is a valid ResourceClaim name; each container's resources.claims entry
 * names one of them, once.
 */
export function podResourceClaimCauses(podName: string, spec: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  objects(spec.resourceClaims).forEach((pc, i) => {
    const field = `spec.resourceClaims[${i}]`;
    const name = typeof pc.name === 'string' ? pc.name : '';
    if (!name) causes.push(requiredCause(`${field}.name`));
    else if (names.has(name)) causes.push(duplicateCause(`${field}.name`, name));
    else {
      const errs = dns1123LabelErrors(name);
      for (const m of errs) causes.push(invalidCause(`${field}.name`, name, m));
      if (errs.length === 0 && podName && typeof pc.resourceClaimTemplateName === 'string') {
        const claimName = `${podName}-${name}`;
        for (const m of dns1123SubdomainErrors(claimName))
          causes.push(invalidCause(`${field}.name`, claimName, `final ResourceClaim name: ${m}`));
      }
      names.add(name);
    }
    const hasName = typeof pc.resourceClaimName === 'string';
    const hasTemplate = typeof pc.resourceClaimTemplateName === 'string';
    if (hasName && hasTemplate)
      causes.push({
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${podClaimValue(pc)}: at most one of \`resourceClaimName\` or \`resourceClaimTemplateName\` may be specified`,
      });
    if (!hasName && !hasTemplate)
      causes.push({
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${podClaimValue(pc)}: must specify one of: \`resourceClaimName\`, \`resourceClaimTemplateName\``,
      });
    for (const key of ['resourceClaimName', 'resourceClaimTemplateName'] as const)
      if (typeof pc[key] === 'string')
        for (const m of dns1123SubdomainErrors(pc[key] as string))
          causes.push(invalidCause(`${field}.${key}`, pc[key], m));
  });
  const known = [...names].sort();
  for (const [list, kind] of [
    [spec.containers, 'containers'],
    [spec.initContainers, 'initContainers'],
  ] as const)
    objects(list).forEach((c, i) => {
      const seen = new Set<string>();
      objects((c.resources as Obj | undefined)?.claims).forEach((claim, j) => {
        const field = `spec.${kind}[${i}].resources.claims[${j}]`;
        const name = typeof claim.name === 'string' ? claim.name : '';
        const request = typeof claim.request === 'string' ? claim.request : '';
        const key = request ? `${name}/${request}` : name;
        if (!name) causes.push(requiredCause(`${field}.name`));
        else if (seen.has(key)) causes.push(duplicateCause(field, key));
        else if (!names.has(name)) {
          const cause = notFoundCause(field, name);
          cause.message += known.length
            ? `: must be one of the names in pod.spec.resourceClaims: ${known.join(', ')}`
            : ': must be one of the names in pod.spec.resourceClaims which is empty';
          causes.push(cause);
        }
        seen.add(key);
      });
    });
  return causes;
}
