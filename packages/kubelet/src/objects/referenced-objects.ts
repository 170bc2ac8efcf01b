import type { Container, Pod } from '../api/pod-types';

/** Every container of the pod: init, regular and ephemeral (upstream's AllContainers). */
function allContainers(pod: Pod): Container[] {
  return [
    ...(pod.spec.initContainers ?? []),
    ...pod.spec.containers,
    ...((pod.spec.ephemeralContainers ?? []) as Container[]),
  ];
}

/** A volume source's secret reference fields, read loosely: several sources are not typed here. */
type LooseSource = Record<string, { secretName?: string; secretRef?: { name?: string } } | undefined>;

/** Volume sources whose `secretRef` names a Secret of the pod's namespace (upstream VisitPodSecretNames). */
const secretRefSources = ['cephfs', 'cinder', 'flexVolume', 'rbd', 'scaleIO', 'iscsi', 'storageOS'] as const;

function add(names: Set<string>, name: string | undefined): void {
  // An empty name is refused by the API's validation; it names nothing to watch or fetch.
  if (name) names.add(name);
}

/**
 * The ConfigMaps a pod references, as upstream's VisitPodConfigmapNames finds them: every
 * container's envFrom configMapRef and env configMapKeyRef, configMap volumes and projected
 * volumes' configMap sources.
 */
export function podConfigMapNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const container of allContainers(pod)) {
    for (const source of container.envFrom ?? []) add(names, source.configMapRef?.name);
    for (const variable of container.env ?? []) add(names, variable.valueFrom?.configMapKeyRef?.name);
  }
  for (const volume of pod.spec.volumes ?? []) {
    add(names, volume.configMap?.name);
    for (const source of volume.projected?.sources ?? []) add(names, source.configMap?.name);
  }
  return names;
}

/**
 * The Secrets a pod references, as upstream's VisitPodSecretNames finds them: imagePullSecrets,
 * every container's envFrom secretRef and env secretKeyRef, secret volumes, projected volumes'
 * secret sources, and the secrets of azureFile, cephfs, cinder, flexVolume, rbd, scaleIO, iscsi,
 * storageOS and csi (nodePublishSecretRef) volumes.
 */
export function podSecretNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const reference of pod.spec.imagePullSecrets ?? []) add(names, reference.name);
  for (const container of allContainers(pod)) {
    for (const source of container.envFrom ?? []) add(names, source.secretRef?.name);
    for (const variable of container.env ?? []) add(names, variable.valueFrom?.secretKeyRef?.name);
  }
  for (const volume of pod.spec.volumes ?? []) {
    const loose = volume as unknown as LooseSource;
    add(names, volume.secret?.secretName);
    add(names, loose.azureFile?.secretName);
    for (const key of secretRefSources) add(names, loose[key]?.secretRef?.name);
    add(names, volume.csi?.nodePublishSecretRef?.name);
    for (const source of volume.projected?.sources ?? []) add(names, source.secret?.name);
  }
  return names;
}
