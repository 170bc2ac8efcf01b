import { volumeSourceKeys } from '@nodeagent/primitives';
import { podQOSClass, quantityValue } from './pod-qos';
import { quantityFromValue } from './quantity-text';

/**
 * The real kube-apiserver's defaulting of a core/v1 Pod (pkg/apis/core/v1/defaults.go and the
 * generated defaulters: SetDefaults_Pod, _PodSpec, _Container, _EphemeralContainer, _Probe,
 * _HTTPGetAction, _ObjectFieldSelector, _Volume and the volume sources), plus what the v1 wire
 * form always carries: `resources: {}` on every container, `divisor: "0"` on every
 * resourceFieldRef (a non-pointer Quantity), `serviceAccount` mirroring `serviceAccountName`.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

export function defaultPod(pod: Obj): void {
  const spec = isObj(pod.spec) ? pod.spec : {};
  pod.spec = spec;
  defaultPodSpec(spec);
  // SetDefaults_Pod: requests default to limits, resource by resource (containers and init containers).
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) {
    const resources = c.resources as Obj;
    if (isObj(resources.limits)) {
      const requests = isObj(resources.requests) ? resources.requests : {};
      for (const [name, value] of Object.entries(resources.limits)) requests[name] ??= value;
      resources.requests = requests;
    }
  }
  defaultPodRequests(spec);
  dropDisabledFields(spec);
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork === true) {
    for (const c of [...objects(spec.containers), ...objects(spec.initContainers)])
      for (const p of objects(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
  }
  // Conversion to v1 mirrors the deprecated field (and reads it when only it is set).
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount)
    spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;

  const status = isObj(pod.status) ? pod.status : {};
  pod.status = status;
  // The pod strategy's PrepareForCreate: Pending with the QoS class computed from the spec.
  status.phase ??= 'Pending';
  status.qosClass ??= podQOSClass(spec);
}

/** Resources pod-level `spec.resources` may set (PodLevelResources, beta and on in v1.36). */
const POD_LEVEL_RESOURCES = (name: string) =>
  name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');

/**
 * defaultPodRequests (PodLevelResources): when the pod sets pod-level limits, each pod-level
 * request left out becomes the containers' effective request of that resource (what the
 * scheduler would count: regular containers and sidecars summed, the peak init container when
 * larger; hugepages excepted), or, when no container requests it, the pod-level limit.
 */
function defaultPodRequests(spec: Obj): void {
  const level = spec.resources;
  if (!isObj(level) || !isObj(level.limits) || Object.keys(level.limits).length === 0) return;
  const requests: Obj = isObj(level.requests) ? { ...level.requests } : {};
  const containers = objects(spec.containers);
  const initContainers = objects(spec.initContainers);
  const names = new Set<string>();
  for (const c of [...containers, ...initContainers]) {
    const r = isObj(c.resources) && isObj(c.resources.requests) ? c.resources.requests : {};
    for (const name of Object.keys(r)) names.add(name);
  }
  for (const name of names) {
    if (requests[name] !== undefined || !POD_LEVEL_RESOURCES(name) || name.startsWith('hugepages-')) continue;
    requests[name] = effectiveRequest(containers, initContainers, name);
  }
  for (const [name, limit] of Object.entries(level.limits))
    if (requests[name] === undefined && POD_LEVEL_RESOURCES(name)) requests[name] = limit;
  if (Object.keys(requests).length > 0) level.requests = requests;
}

/** The containers' effective request of one resource, as quantity text (upstream AggregateContainerRequests). */
export function effectiveRequest(containers: Obj[], initContainers: Obj[], name: string): string {
  const texts: string[] = [];
  const of = (c: Obj): number => {
    const q = isObj(c.resources) && isObj(c.resources.requests) ? c.resources.requests[name] : undefined;
    if (q === undefined) return 0;
    texts.push(String(q));
    return quantityValue(q) || 0;
  };
  let total = containers.reduce((sum, c) => sum + of(c), 0);
  let sidecars = 0;
  let initPeak = 0;
  for (const c of initContainers) {
    if (c.restartPolicy === 'Always') {
      const value = of(c);
      sidecars += value;
      total += value;
    } else initPeak = Math.max(initPeak, of(c) + sidecars);
  }
  total = Math.max(total, initPeak);
  const binary = texts.length > 0 && /(Ki|Mi|Gi|Ti|Pi|Ei)$/.test(texts[0] as string);
  return quantityFromValue(total, binary);
}

/**
 * DropDisabledPodFields on create: what a disabled feature gate's field holds is dropped.
 * ContainerStopSignals is alpha (off) in v1.36: `lifecycle.stopSignal` goes, and with it a
 * lifecycle that holds nothing else (the v1.36 recording's stop-signal pod).
 */
function dropDisabledFields(spec: Obj): void {
  for (const c of [
    ...objects(spec.containers),
    ...objects(spec.initContainers),
    ...objects(spec.ephemeralContainers),
  ]) {
    if (!isObj(c.lifecycle) || c.lifecycle.stopSignal === undefined) continue;
    delete c.lifecycle.stopSignal;
    if (c.lifecycle.postStart === undefined && c.lifecycle.preStop === undefined) delete c.lifecycle;
  }
}

/** SetDefaults_PodSpec and everything nested in the spec. */
function defaultPodSpec(spec: Obj): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  for (const c of objects(spec.containers)) defaultContainer(c);
  for (const c of objects(spec.initContainers)) defaultContainer(c);
  for (const c of objects(spec.ephemeralContainers)) defaultContainer(c);
  for (const v of objects(spec.volumes)) defaultVolume(v);
}

/** SetDefaults_Container (ephemeral containers share it) and the container's nested structs. */
function defaultContainer(c: Obj): void {
  c.imagePullPolicy ||= imageTag(String(c.image ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  if (!isObj(c.resources)) c.resources = {};
  for (const p of objects(c.ports)) p.protocol ||= 'TCP';
  for (const e of objects(c.env)) {
    const from = e.valueFrom;
    if (!isObj(from)) continue;
    if (isObj(from.fieldRef)) defaultFieldRef(from.fieldRef);
    if (isObj(from.resourceFieldRef)) defaultResourceFieldRef(from.resourceFieldRef);
    // FileKeySelector.optional is a *bool the generated defaulter sets to false (EnvFiles).
    if (isObj(from.fileKeyRef)) from.fileKeyRef.optional ??= false;
  }
  for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = c[field];
    if (isObj(probe)) defaultProbe(probe);
  }
  if (isObj(c.lifecycle)) {
    for (const hook of [c.lifecycle.postStart, c.lifecycle.preStop])
      if (isObj(hook) && isObj(hook.httpGet)) defaultHTTPGet(hook.httpGet);
  }
}

function defaultProbe(probe: Obj): void {
  if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
  if (!probe.periodSeconds) probe.periodSeconds = 10;
  if (!probe.successThreshold) probe.successThreshold = 1;
  if (!probe.failureThreshold) probe.failureThreshold = 3;
  if (isObj(probe.httpGet)) defaultHTTPGet(probe.httpGet);
  // GRPCAction.service is a *string the generated defaulter sets to "".
  if (isObj(probe.grpc)) probe.grpc.service ??= '';
}

function defaultHTTPGet(action: Obj): void {
  action.path ||= '/';
  action.scheme ||= 'HTTP';
}

function defaultFieldRef(ref: Obj): void {
  ref.apiVersion ||= 'v1';
}

/** divisor is a non-pointer resource.Quantity: unset, it is stored and served as "0". */
function defaultResourceFieldRef(ref: Obj): void {
  if (ref.divisor === undefined || ref.divisor === null || ref.divisor === '') ref.divisor = '0';
}

function defaultDownwardItems(items: unknown): void {
  for (const item of objects(items)) {
    if (isObj(item.fieldRef)) defaultFieldRef(item.fieldRef);
    if (isObj(item.resourceFieldRef)) defaultResourceFieldRef(item.resourceFieldRef);
  }
}

/** Default file mode of secret, configMap, downwardAPI and projected volumes: 0644. */
const DEFAULT_VOLUME_MODE = 0o644;

/** SetDefaults_Volume and the defaulters of each volume source. */
function defaultVolume(v: Obj): void {
  if (!volumeSourceKeys.some((s) => v[s] !== undefined && v[s] !== null)) v.emptyDir = {};
  if (isObj(v.hostPath)) v.hostPath.type ??= '';
  if (isObj(v.secret)) v.secret.defaultMode ??= DEFAULT_VOLUME_MODE;
  if (isObj(v.configMap)) v.configMap.defaultMode ??= DEFAULT_VOLUME_MODE;
  if (isObj(v.downwardAPI)) {
    v.downwardAPI.defaultMode ??= DEFAULT_VOLUME_MODE;
    defaultDownwardItems(v.downwardAPI.items);
  }
  if (isObj(v.projected)) {
    v.projected.defaultMode ??= DEFAULT_VOLUME_MODE;
    for (const source of objects(v.projected.sources)) {
      if (isObj(source.downwardAPI)) defaultDownwardItems(source.downwardAPI.items);
      if (isObj(source.serviceAccountToken)) source.serviceAccountToken.expirationSeconds ??= 3600;
    }
  }
  if (isObj(v.image))
    v.image.pullPolicy ||= imageTag(String(v.image.reference ?? '')) === 'latest' ? 'Always' : 'IfNotPresent';
  if (isObj(v.iscsi)) v.iscsi.iscsiInterface ||= 'default';
  if (isObj(v.rbd)) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (isObj(v.azureDisk)) {
    v.azureDisk.cachingMode ??= 'ReadWrite';
    v.azureDisk.fsType ??= 'ext4';
    v.azureDisk.readOnly ??= false;
    v.azureDisk.kind ??= 'Shared';
  }
  if (isObj(v.scaleIO)) {
    v.scaleIO.storageMode ||= 'ThinProvisioned';
    v.scaleIO.fsType ||= 'xfs';
  }
  const template = isObj(v.ephemeral) ? v.ephemeral.volumeClaimTemplate : undefined;
  if (isObj(template) && isObj(template.spec)) template.spec.volumeMode ??= 'Filesystem';
}

/**
 * The tag upstream's parsers.ParseImageName reports: the reference's tag, "" for a digest-only
 * reference, "latest" for one with neither.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return name.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}
