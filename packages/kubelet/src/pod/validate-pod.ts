import type { Container, Pod } from '../api/pod-types';
import { InvalidPodSpecError } from '../errors';
import { volumeSourceHandling, volumeSources } from '../volumes/volume-sources';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/**
 * Checks what the kubelet needs to run a pod. The API server validates far more; these are the
 * things that would otherwise crash or wedge a sync (and static pods never passed the API
 * server). Returns every problem; an empty list means the pod can run.
 */
export function validatePod(pod: Pod): InvalidPodSpecError[] {
  const errors: InvalidPodSpecError[] = [];
  const fail = (field: string, value: unknown, reason: string) =>
    errors.push(new InvalidPodSpecError(field, value, reason));

  if (!pod || typeof pod !== 'object' || !pod.metadata || typeof pod.metadata !== 'object') {
    fail('metadata', pod?.metadata, 'is required');
    return errors;
  }
  if (!pod.metadata.name) fail('metadata.name', pod.metadata.name, 'is required');
  if (!pod.spec || typeof pod.spec !== 'object') {
    fail('spec', pod.spec, 'is required');
    return errors;
  }
  const spec = pod.spec;
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    fail('spec.containers', spec.containers, 'must have at least one container');
  }
  if (spec.restartPolicy !== undefined && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    fail('spec.restartPolicy', spec.restartPolicy, 'must be Always, OnFailure or Never');
  }
  if (spec.terminationGracePeriodSeconds !== undefined && !(spec.terminationGracePeriodSeconds >= 0)) {
    fail('spec.terminationGracePeriodSeconds', spec.terminationGracePeriodSeconds, 'must not be negative');
  }

  const volumeNames = new Set<string>();
  for (const [index, volume] of (spec.volumes ?? []).entries()) {
    const field = `spec.volumes[${index}]`;
    if (!volume?.name || !dns1123Label.test(volume.name)) {
      fail(`${field}.name`, volume?.name, 'must be a DNS-1123 label');
      continue;
    }
    if (volumeNames.has(volume.name)) fail(`${field}.name`, volume.name, 'duplicate volume name');
    volumeNames.add(volume.name);
    // Sources without a plugin here are admitted and wait for their mount as upstream's do
    // (volumes/volume-sources.ts); only the few this kubelet cannot stand in for are refused.
    const sources = volumeSources(volume);
    if (sources.length !== 1) {
      fail(
        field,
        volume.name,
        sources.length === 0
          ? 'must specify a volume source'
          : `must specify exactly one volume source, got ${sources.join(', ')}`,
      );
    } else if (volumeSourceHandling(sources[0]!) === 'refused') {
      fail(`${field}.${sources[0]}`, volume.name, 'is not supported by this kubelet');
    } else if (volume.csi && !volume.csi.driver) {
      fail(`${field}.csi.driver`, volume.csi.driver, 'is required');
    } else if (volume.nfs && (!volume.nfs.server || !volume.nfs.path?.startsWith('/'))) {
      fail(`${field}.nfs`, volume.nfs, 'needs a server and an absolute path');
    }
    if (volume.hostPath && !volume.hostPath.path?.startsWith('/')) {
      fail(`${field}.hostPath.path`, volume.hostPath.path, 'must be an absolute path');
    }
  }

  const containerNames = new Set<string>();
  const groups: [string, Container[] | undefined][] = [
    ['spec.initContainers', spec.initContainers],
    ['spec.containers', spec.containers],
  ];
  for (const [group, containers] of groups) {
    if (!Array.isArray(containers)) continue;
    for (const [index, container] of containers.entries()) {
      const field = `${group}[${index}]`;
      if (!container || typeof container !== 'object') {
        fail(field, container, 'must be a container object');
        continue;
      }
      if (!container.name || !dns1123Label.test(container.name)) {
        fail(`${field}.name`, container.name, 'must be a DNS-1123 label');
      } else if (containerNames.has(container.name)) {
        fail(`${field}.name`, container.name, 'duplicate container name');
      } else {
        containerNames.add(container.name);
      }
      if (typeof container.image !== 'string' || container.image.trim() === '') {
        fail(`${field}.image`, container.image, 'is required');
      }
      if (container.restartPolicy !== undefined) {
        // ContainerRestartRules (beta, on in v1.36): init containers other than sidecars (Always)
        // and regular containers may set their own too.
        if (group === 'spec.ephemeralContainers') {
          fail(`${field}.restartPolicy`, container.restartPolicy, 'may not be set on ephemeral containers');
        } else if (!['Always', 'OnFailure', 'Never'].includes(container.restartPolicy)) {
          fail(`${field}.restartPolicy`, container.restartPolicy, 'must be Always, OnFailure or Never');
        }
      }
      for (const [ruleIndex, rule] of (container.restartPolicyRules ?? []).entries()) {
        const ruleField = `${field}.restartPolicyRules[${ruleIndex}]`;
        if (!['Restart', 'RestartAllContainers'].includes(rule.action))
          fail(`${ruleField}.action`, rule.action, 'must be Restart or RestartAllContainers');
        if (!rule.exitCodes || !['In', 'NotIn'].includes(rule.exitCodes.operator))
          fail(`${ruleField}.exitCodes.operator`, rule.exitCodes?.operator, 'must be In or NotIn');
      }
      validateContainerDetails(container, field, volumeNames, fail);
    }
  }
  return errors;
}

function validateContainerDetails(
  container: Container,
  field: string,
  volumeNames: Set<string>,
  fail: (field: string, value: unknown, reason: string) => void,
): void {
  const mountPaths = new Set<string>();
  for (const [index, mount] of (container.volumeMounts ?? []).entries()) {
    const mountField = `${field}.volumeMounts[${index}]`;
    if (!volumeNames.has(mount?.name)) fail(`${mountField}.name`, mount?.name, 'not found in spec.volumes');
    if (!mount?.mountPath) fail(`${mountField}.mountPath`, mount?.mountPath, 'is required');
    else if (mountPaths.has(mount.mountPath))
      fail(`${mountField}.mountPath`, mount.mountPath, 'must be unique');
    else mountPaths.add(mount.mountPath);
    if (mount?.subPath && (mount.subPath.startsWith('/') || mount.subPath.split('/').includes('..'))) {
      fail(`${mountField}.subPath`, mount.subPath, "must be a relative path without '..'");
    }
  }
  for (const [index, port] of (container.ports ?? []).entries()) {
    const portField = `${field}.ports[${index}]`;
    if (!Number.isInteger(port?.containerPort) || port.containerPort < 1 || port.containerPort > 65535) {
      fail(`${portField}.containerPort`, port?.containerPort, 'must be between 1 and 65535');
    }
    if (
      port?.hostPort !== undefined &&
      (!Number.isInteger(port.hostPort) || port.hostPort < 0 || port.hostPort > 65535)
    ) {
      fail(`${portField}.hostPort`, port.hostPort, 'must be between 0 and 65535');
    }
    if (port?.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) {
      fail(`${portField}.protocol`, port.protocol, 'must be TCP, UDP or SCTP');
    }
  }
  for (const [index, env] of (container.env ?? []).entries()) {
    const envField = `${field}.env[${index}]`;
    if (!env?.name || !envVarName.test(env.name))
      fail(`${envField}.name`, env?.name, 'must be a valid environment variable name');
    if (env?.valueFrom) {
      const sources = Object.keys(env.valueFrom).filter(
        (key) => (env.valueFrom as Record<string, unknown>)[key] !== undefined,
      );
      if (sources.length !== 1)
        fail(`${envField}.valueFrom`, env.valueFrom, 'must specify exactly one source');
      if (env.value !== undefined && env.value !== '')
        fail(`${envField}.valueFrom`, env.valueFrom, 'may not be set together with value');
    }
  }
}
