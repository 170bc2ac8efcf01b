import type { StatusCause } from './api-error';
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  forbiddenCause,
  invalidCause,
  notFoundCause,
  notSupportedCause,
  requiredCause,
  tooLongCause,
} from './field-errors';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Upstream's limit on a pod's hostnameOverride (a Linux hostname is at most 64 bytes). */
const MAX_HOSTNAME_OVERRIDE = 64;

/**
 * validatePodHostName (HostnameOverride, beta, on in v1.36): not with setHostnameAsFQDN, not
 * with hostNetwork, at most 64 bytes, and an RFC 1123 subdomain.
 */
export function hostnameOverrideCauses(spec: Obj): StatusCause[] {
  const value = spec.hostnameOverride;
  if (typeof value !== 'string') return [];
  const field = 'spec.hostnameOverride';
  const causes: StatusCause[] = [];
  if (spec.setHostnameAsFQDN === true)
    causes.push(forbiddenCause(field, 'may not be specified when setHostnameAsFQDN is true'));
  if (spec.hostNetwork === true)
    causes.push(forbiddenCause(field, 'may not be specified when hostNetwork is true'));
  if (value.length > MAX_HOSTNAME_OVERRIDE) causes.push(tooLongCause(field, MAX_HOSTNAME_OVERRIDE));
  for (const msg of dns1123SubdomainErrors(value)) causes.push(invalidCause(field, value, msg));
  return causes;
}

const RELAXED_ENV_NAME_MSG =
  "a valid environment variable name must consist only of printable ASCII characters other than '='";

/** IsRelaxedEnvVarName: printable ASCII but '=' (the key of a fileKeyRef). */
const isRelaxedEnvVarName = (name: string): boolean =>
  [...name].every((ch) => ch >= ' ' && ch <= '~' && ch !== '=');

/**
 * validateFileKeySelector (EnvFiles, beta, on in v1.36): the key is a relaxed environment
 * variable name, the volume name a DNS-1123 label, and the path has no `..` element (upstream
 * does not require it relative).
 */
function fileKeySelectorCauses(ref: Obj, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const key = typeof ref.key === 'string' ? ref.key : '';
  if (!key) causes.push(requiredCause(`${field}.key`));
  else if (!isRelaxedEnvVarName(key)) causes.push(invalidCause(`${field}.key`, key, RELAXED_ENV_NAME_MSG));
  const volumeName = typeof ref.volumeName === 'string' ? ref.volumeName : '';
  if (!volumeName) causes.push(requiredCause(`${field}.volumeName`));
  else
    for (const msg of dns1123LabelErrors(volumeName))
      causes.push(invalidCause(`${field}.volumeName`, volumeName, msg));
  const path = typeof ref.path === 'string' ? ref.path : '';
  if (!path) causes.push(requiredCause(`${field}.path`));
  else if (path.split('/').includes('..'))
    causes.push(invalidCause(`${field}.path`, path, "must not contain '..'"));
  return causes;
}

/** The fileKeyRefs of one container's env, with their field paths. */
function fileKeyRefs(container: Obj, field: string): { ref: Obj; field: string }[] {
  const out: { ref: Obj; field: string }[] = [];
  objects(container.env).forEach((env, j) => {
    if (isObj(env.valueFrom) && isObj(env.valueFrom.fileKeyRef))
      out.push({ ref: env.valueFrom.fileKeyRef, field: `${field}.env[${j}].valueFrom.fileKeyRef` });
  });
  return out;
}

/** A container's fileKeyRef selectors, as ValidateEnv checks them inside the container's validation. */
export function containerFileKeyRefCauses(container: Obj, field: string): StatusCause[] {
  return fileKeyRefs(container, field).flatMap(({ ref, field: f }) => fileKeySelectorCauses(ref, f));
}

/**
 * validateFileKeyRefVolumes: every fileKeyRef names a volume of the pod, and that volume is an
 * emptyDir. Containers are visited as upstream's VisitContainersWithPath does: init containers,
 * then containers, then ephemeral containers.
 */
export function fileKeyRefVolumeCauses(spec: Obj): StatusCause[] {
  const volumes = new Map(objects(spec.volumes).map((v) => [v.name as string, v]));
  const causes: StatusCause[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    objects(spec[list]).forEach((container, i) => {
      for (const { ref, field } of fileKeyRefs(container, `spec.${list}[${i}]`)) {
        const name = typeof ref.volumeName === 'string' ? ref.volumeName : '';
        const volume = volumes.get(name);
        if (!volume) causes.push(notFoundCause(`${field}.volumeName`, name));
        else if (!isObj(volume.emptyDir))
          causes.push(
            invalidCause(`${field}.volumeName`, name, 'referenced volume must be of type emptyDir'),
          );
      }
    });
  }
  return causes;
}

/**
 * validateSELinuxChangePolicy on create: with SELinuxMount off (beta, off by default in v1.36)
 * a new pod may only ask for Recursive.
 */
export function seLinuxChangePolicyCauses(spec: Obj): StatusCause[] {
  const policy = isObj(spec.securityContext) ? spec.securityContext.seLinuxChangePolicy : undefined;
  if (policy === undefined || policy === null || policy === 'Recursive') return [];
  return [notSupportedCause('spec.securityContext.seLinuxChangePolicy', policy, ['Recursive'])];
}
