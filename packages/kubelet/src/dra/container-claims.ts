import { CodedError } from '@nodeagent/primitives';
import type { Container, Pod, ResourceStatus } from '../api/pod-types';
import { type ClaimInfoState, cdiDevicesFor } from './claim-info';
import type { DeviceHealthReport } from './dra-health';
import { claimName } from './resource-claim';

/** Finds a prepared claim by name in the pod's namespace (the claim info cache). */
export type PreparedClaimLookup = (claimName: string, namespace: string) => ClaimInfoState | undefined;

/** A claim a container uses is not prepared: its CreateContainer fails with upstream's text. */
export class ClaimNotPreparedError extends CodedError {
  constructor(message: string) {
    super('DRA_CLAIM_NOT_PREPARED', message);
  }
}

/** Whether the container asks for a non-zero amount of an extended resource. */
function hasRequest(container: Container, resourceName: string): boolean {
  const value = container.resources?.requests?.[resourceName];
  return value !== undefined && value !== '0';
}

/**
 * The ResourceClaims a container uses with the requests it names of each ('' for all), as
 * upstream's GetResources collects them: its resources.claims resolved through
 * spec.resourceClaims, plus its requests of the scheduler's extended-resource claim.
 */
function claimRequests(pod: Pod, container: Container, extendedResource: boolean): Map<string, string[]> {
  const requests = new Map<string, string[]>();
  const add = (name: string, names: string[]) =>
    requests.set(name, [...(requests.get(name) ?? []), ...names]);
  for (const claim of container.resources?.claims ?? []) {
    const podClaim = pod.spec.resourceClaims?.find((c) => c.name === claim.name);
    const name = podClaim && claimName(pod, podClaim).name;
    if (name !== undefined) add(name, [claim.request ?? '']);
  }
  const extended = extendedResource ? pod.status?.extendedResourceClaimStatus : undefined;
  if (extended) {
    const names = extended.requestMappings
      .filter((m) => m.containerName === container.name && hasRequest(container, m.resourceName))
      .map((m) => m.requestName);
    if (names.length > 0) add(extended.resourceClaimName, names);
  }
  return requests;
}

/**
 * The CDI devices of the claims `container` uses (upstream GetResources), for CRI CreateContainer's
 * CDI_devices. Throws ClaimNotPreparedError for a claim the kubelet has not prepared.
 */
export function containerCdiDevices(
  pod: Pod,
  container: Container,
  lookup: PreparedClaimLookup,
  extendedResource: boolean,
): string[] {
  const namespace = pod.metadata.namespace ?? '';
  const devices: string[] = [];
  for (const [name, requestNames] of claimRequests(pod, container, extendedResource)) {
    const info = lookup(name, namespace);
    if (!info)
      throw new ClaimNotPreparedError(
        `internal error: unable to get claim info for ResourceClaim ${name} in namespace ${namespace}`,
      );
    for (const request of requestNames) devices.push(...cdiDevicesFor(info, request));
  }
  return devices;
}

/** The prepared claims `container` uses (upstream GetContainerClaimInfos): the pod-resources API's answer. */
export function containerClaims(
  pod: Pod,
  container: Container,
  lookup: PreparedClaimLookup,
): ClaimInfoState[] {
  const used = new Set((container.resources?.claims ?? []).map((c) => c.name));
  const out: ClaimInfoState[] = [];
  for (const podClaim of pod.spec.resourceClaims ?? []) {
    if (!used.has(podClaim.name)) continue;
    const { name } = claimName(pod, podClaim);
    if (name === undefined) continue;
    const info = lookup(name, pod.metadata.namespace ?? '');
    if (!info) throw new ClaimNotPreparedError(`unable to get information for ResourceClaim ${name}`);
    out.push(info);
  }
  return out;
}

/** The claim's name for a container's claim entry: the status' record, else resolved from the spec. */
function actualClaimName(pod: Pod, podClaimName: string): string | undefined {
  const recorded = pod.status?.resourceClaimStatuses?.find((s) => s.name === podClaimName)?.resourceClaimName;
  if (recorded) return recorded;
  const podClaim = pod.spec.resourceClaims?.find((c) => c.name === podClaimName);
  if (!podClaim) return undefined;
  try {
    return claimName(pod, podClaim).name;
  } catch {
    return undefined;
  }
}

/**
 * The health of the devices of the claims a container uses (upstream
 * UpdateAllocatedResourcesStatus): one entry per `claim:<name>[/<request>]`, each device once, by
 * its first CDI device ID (or driver/pool/device), with the driver's message when `withMessage`
 * (ResourceHealthStatusMessage) and it has one. Undefined for a container without claims.
 */
export function claimResourcesStatus(
  pod: Pod,
  containerName: string,
  lookup: PreparedClaimLookup,
  health: (driver: string, poolName: string, deviceName: string) => DeviceHealthReport,
  withMessage = true,
): ResourceStatus[] | undefined {
  const container = pod.spec.containers.find((c) => c.name === containerName);
  if (!container?.resources?.claims?.length) return undefined;
  const statuses: ResourceStatus[] = [];
  for (const claim of container.resources.claims) {
    const actual = actualClaimName(pod, claim.name);
    const info = actual === undefined ? undefined : lookup(actual, pod.metadata.namespace ?? '');
    if (!info) continue;
    const base = claim.request?.split('/')[0];
    const seen = new Set<string>();
    const resources: ResourceStatus['resources'] = [];
    for (const [driver, devices] of info.driverState)
      for (const device of devices) {
        if (base && device.requestNames.length > 0 && !device.requestNames.includes(base)) continue;
        const resourceID = device.cdiDeviceIds[0] ?? `${driver}/${device.poolName}/${device.deviceName}`;
        if (seen.has(resourceID)) continue;
        seen.add(resourceID);
        const report = health(driver, device.poolName, device.deviceName);
        resources.push({
          resourceID,
          health: report.health,
          ...(withMessage && report.message ? { message: report.message } : {}),
        });
      }
    if (resources.length > 0)
      statuses.push({
        name: claim.request ? `claim:${claim.name}/${claim.request}` : `claim:${claim.name}`,
        resources,
      });
  }
  return statuses.length > 0 ? statuses : undefined;
}
