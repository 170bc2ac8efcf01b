import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound } from './api-error';
import { CSR_KIND, csrStatusForUpdate } from './csr-strategy';
import { draUpdateCauses } from './dra-validation';
import { ephemeralContainersUpdate } from './ephemeral-containers';
import { type FieldSelector, matchesFields } from './field-selector';
import { sameJson } from './json-equality';
import { applyJsonPatch, applyMergePatch } from './json-patch';
import type { KubeObject } from './kube-object';
import { type LabelSelector, matchesLabels } from './label-selector';
import type { ObjectStore } from './object-store';
import {
  checkKind,
  type FieldValidation,
  objectCauses,
  unknownFields,
  validateObject,
} from './object-validation';
import { type AdmissionOptions, admitPodUpdate } from './pod-admission';
import { podResizeUpdate } from './pod-resize';
import { admitPodResize } from './pod-resize-admission';
import { podStatusUpdate } from './pod-status-update';
import { podUpdateCauses } from './pod-update-validation';
import { applyDefaults } from './resource-defaults';
import { findResourceType, type ResourceType, resourceKey } from './resource-types';
import { mountServiceAccountToken } from './service-account-token-volume';
import { ServiceAddressIndex } from './service-address-index';
import { applyStrategicMergePatch } from './strategic-merge-patch';

export interface RegistryOptions {
  /** Wall clock for creationTimestamp/deletionTimestamp. */
  now: () => Date;
  serviceCIDR: string;
  /** Settings of the admission plugins run on create (DefaultTolerationSeconds). */
  admission?: AdmissionOptions;
  /** The ServiceAccount plugin's projected token volume on new pods (service-account-token-volume.ts). */
  serviceAccountTokenVolume?: boolean;
}

/** A write's field validation, dry run and where warnings go. */
export interface WriteOptions {
  fieldValidation?: FieldValidation;
  dryRun?: boolean;
  /** Collects `Warning` header texts (unknown fields in Warn mode). */
  warnings?: string[];
}

/** A delete's grace period, preconditions and dry run. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;

const NAMESPACES = resourceKey(findResourceType('', 'v1', 'namespaces') as ResourceType);
const NODES_TYPE = findResourceType('', 'v1', 'nodes') as ResourceType;
const SERVICE_ACCOUNTS_TYPE = findResourceType('', 'v1', 'serviceaccounts') as ResourceType;

/** RFC 3339 with second precision, as metav1.Time serializes. */
function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** What a generation bump is not decided on: every member but these is the object's spec. */
const NOT_SPEC = new Set(['metadata', 'status']);

/** Whether everything but metadata and status is the same, key order aside. */
function sameSpec(a: KubeObject, b: KubeObject): boolean {
  return sameJson(a, b, NOT_SPEC);
}

/**
 * The API semantics on top of raw storage: defaulting, validation, optimistic concurrency,
 * status subresources, generation, graceful pod deletion, finalizers. The HTTP layer and
 * in-process controllers both write through here.
 */
export class ResourceRegistry {
  /** The ClusterIPs and NodePorts in use, for allocation without a scan of every Service. */
  readonly serviceAddresses: ServiceAddressIndex;

  constructor(
    readonly store: ObjectStore,
    private readonly options: RegistryOptions,
  ) {
    this.serviceAddresses = new ServiceAddressIndex(options.serviceCIDR, store);
  }

  private requireNamespace(rt: ResourceType, namespace: string | undefined): void {
    if (!rt.namespaced) return;
    if (!namespace)
      throw badRequest('the server could not find the requested resource: namespace is required');
    if (!this.store.get(NAMESPACES, undefined, namespace)) throw notFound('namespaces', '', namespace);
  }

  /** The object, or a NotFound ApiError. */
  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.store.get(resourceKey(rt), rt.namespaced ? namespace : undefined, name);
    if (!o) throw notFound(rt.plural, rt.group, name);
    return o;
  }

  /** The object, or undefined. */
  find(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(resourceKey(rt), rt.namespaced ? namespace : undefined, name);
  }

  /** The objects of a resource, optionally in one namespace and filtered by selectors. */
  list(
    rt: ResourceType,
    namespace: string | undefined,
    labels: LabelSelector = [],
    fields: FieldSelector = [],
  ): KubeObject[] {
    return this.store
      .list(resourceKey(rt), rt.namespaced ? namespace : undefined)
      .filter((o) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o));
  }

  private checkFields(obj: KubeObject, opts: WriteOptions): void {
    const mode = opts.fieldValidation ?? 'Warn';
    if (mode === 'Ignore') return;
    const unknown = unknownFields(obj);
    if (unknown.length === 0) return;
    if (mode === 'Strict') {
      throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    for (const f of unknown) opts.warnings?.push(`unknown field "${f}"`);
  }

  /** Creates an object with the server's defaulting, validation and admission. */
  create(
    rt: ResourceType,
    namespace: string | undefined,
    body: unknown,
    opts: WriteOptions = {},
  ): KubeObject {
    const obj = checkKind(body, rt);
    this.checkFields(obj, opts);
    if (rt.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
      this.requireNamespace(rt, obj.metadata.namespace);
    } else {
      delete obj.metadata.namespace;
    }
    if (!obj.metadata.name && obj.metadata.generateName) {
      // Five random lowercase alphanumerics, like the real name generator.
      const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
      const suffix = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
      obj.metadata.name = `${obj.metadata.generateName}${suffix}`;
    }
    applyDefaults(obj, 'create', this.options.admission);
    if (rt.kind === 'Pod' && this.options.serviceAccountTokenVolume) {
      const account = String(
        (obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? '',
      );
      const found = account ? this.find(SERVICE_ACCOUNTS_TYPE, obj.metadata.namespace, account) : undefined;
      mountServiceAccountToken(obj, found);
    }
    if (rt.kind === 'Service') this.allocateServiceAddresses(obj);
    validateObject(rt, obj);
    const name = obj.metadata.name as string;
    if (this.find(rt, obj.metadata.namespace, name)) throw alreadyExists(rt.plural, rt.group, name);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = rfc3339(this.options.now());
    obj.metadata.generation = 1;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    delete obj.metadata.selfLink;
    if (opts.dryRun) return { ...obj, metadata: { ...obj.metadata, resourceVersion: '' } };
    return this.store.put(resourceKey(rt), obj, 'ADDED');
  }

  private allocateServiceAddresses(svc: KubeObject): void {
    const spec = svc.spec as Record<string, unknown>;
    if (spec.type === 'ExternalName') return;
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      spec.clusterIP = this.serviceAddresses.allocateClusterIP();
    }
    if (spec.clusterIP !== 'None') spec.clusterIPs ??= [spec.clusterIP];
    else spec.clusterIPs ??= ['None'];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      const wanting = ((spec.ports as { nodePort?: number }[]) ?? []).filter((p) => !p.nodePort);
      const ports = this.serviceAddresses.allocateNodePorts(wanting.length);
      wanting.forEach((p, i) => {
        p.nodePort = ports[i];
      });
    }
  }

  /** PUT semantics: full replacement with optimistic concurrency when resourceVersion is set. */
  update(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource?: string,
    opts: WriteOptions = {},
  ): KubeObject {
    const obj = checkKind(body, rt);
    this.checkFields(obj, opts);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (rt.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const old = this.get(rt, namespace, name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(rt.plural, rt.group, name);
    return this.commitUpdate(rt, old, obj, subresource, opts);
  }

  private commitUpdate(
    rt: ResourceType,
    old: KubeObject,
    incoming: KubeObject,
    subresource: string | undefined,
    opts: WriteOptions,
  ): KubeObject {
    let next: KubeObject;
    if (rt.kind === CSR_KIND && subresource !== undefined) {
      // CSRs: /approval and /status each change their own part of status (csr-strategy.ts).
      next = { ...old, status: csrStatusForUpdate(old, incoming, subresource, this.options.now()) };
    } else if (rt.kind === 'Pod' && subresource === 'ephemeralcontainers') {
      next = ephemeralContainersUpdate(old, incoming);
    } else if (rt.kind === 'Pod' && subresource === 'resize') {
      // The request body is decoded, so defaulted, before the resize strategy sees it.
      applyDefaults(incoming);
      next = podResizeUpdate(old, incoming, (pod) => objectCauses(rt, pod));
      admitPodResize(next, old, (node) => this.find(NODES_TYPE, undefined, node));
    } else if (rt.kind === 'Pod' && subresource === 'status') {
      next = podStatusUpdate(old, incoming);
    } else if (rt.kind === 'Node' && subresource === 'status') {
      // nodeStatusStrategy keeps the stored spec only: labels and annotations sent to a Node's
      // status change too (the kubelet sets a removed kubernetes.io/os label again that way).
      const { labels, annotations } = incoming.metadata;
      next = { ...old, metadata: { ...old.metadata, labels, annotations }, status: incoming.status };
    } else if (subresource === 'status') {
      // The status subresource changes status only; everything else comes from storage.
      next = { ...old, status: incoming.status };
    } else {
      next = { ...incoming, apiVersion: old.apiVersion, kind: old.kind };
      if (rt.hasStatus) next.status = old.status;
      // Immutable and server-owned metadata survives client updates.
      next.metadata = {
        ...incoming.metadata,
        name: old.metadata.name,
        namespace: old.metadata.namespace,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
        generation: old.metadata.generation,
      };
      if (old.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
        next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      } else {
        delete next.metadata.deletionTimestamp;
        delete next.metadata.deletionGracePeriodSeconds;
      }
      if (rt.kind === 'Service') {
        const spec = (next.spec ?? {}) as Record<string, unknown>;
        const oldSpec = (old.spec ?? {}) as Record<string, unknown>;
        // clusterIP is immutable once allocated; an omitted one keeps the allocation.
        if (!spec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
        if (!spec.clusterIPs) spec.clusterIPs = oldSpec.clusterIPs;
        next.spec = spec;
        if (spec.clusterIP !== oldSpec.clusterIP) {
          throw new ApiError(
            422,
            'Invalid',
            `Service "${old.metadata.name}" is invalid: spec.clusterIPs[0]: Invalid value: ${JSON.stringify([spec.clusterIP])}: may not change once set`,
            {
              name: old.metadata.name as string,
              kind: 'Service',
              causes: [
                {
                  reason: 'FieldValueInvalid',
                  message: 'may not change once set',
                  field: 'spec.clusterIPs[0]',
                },
              ],
            },
          );
        }
      }
      // A CSR's spec is immutable: updates of the main resource change metadata only.
      if (rt.kind === CSR_KIND) next.spec = old.spec;
      applyDefaults(next);
      if (rt.kind === 'Pod') {
        admitPodUpdate(next, this.options.admission);
        const causes = podUpdateCauses(
          (next.spec ?? {}) as Record<string, unknown>,
          (old.spec ?? {}) as Record<string, unknown>,
        );
        if (causes.length > 0) throw invalid('Pod', '', String(old.metadata.name), causes);
      }
      if (rt.kind === 'Service') this.allocateServiceAddresses(next);
      if (!sameSpec(next, old)) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    if (rt.group === 'resource.k8s.io') {
      const causes = draUpdateCauses(next, old);
      if (causes.length > 0) throw invalid(rt.kind, rt.group, String(old.metadata.name), causes);
    }
    validateObject(rt, next);
    if (opts.dryRun) return next;
    // An object with deletionTimestamp whose last finalizer is removed goes away.
    if (
      next.metadata.deletionTimestamp &&
      (next.metadata.finalizers ?? []).length === 0 &&
      rt.kind !== 'Pod'
    ) {
      return this.store.remove(resourceKey(rt), old.metadata.namespace, old.metadata.name as string) ?? next;
    }
    return this.store.put(resourceKey(rt), next, 'MODIFIED');
  }

  /** Applies a JSON, merge or strategic merge patch. */
  patch(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    subresource?: string,
    opts: WriteOptions & { force?: boolean } = {},
  ): KubeObject {
    const type = contentType.split(';')[0]?.trim() ?? '';
    if (!(PATCH_TYPES as readonly string[]).includes(type)) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
      );
    }
    let patch: unknown;
    try {
      patch = type === 'application/apply-patch+yaml' ? parseYaml(rawBody) : JSON.parse(rawBody);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const old = this.find(rt, namespace, name);
    if (!old) {
      if (type === 'application/apply-patch+yaml') {
        // Server-side apply creates the object when it does not exist.
        return this.create(rt, namespace, patch, opts);
      }
      throw notFound(rt.plural, rt.group, name);
    }
    let next: unknown;
    if (type === 'application/json-patch+json') next = applyJsonPatch(old, patch);
    else if (type === 'application/merge-patch+json') next = applyMergePatch(old, patch);
    else if (type === 'application/strategic-merge-patch+json')
      next = applyStrategicMergePatch(rt.kind, old, patch);
    else {
      // Server-side apply without field ownership tracking: the applied configuration
      // is merged like a strategic merge patch, which is what a single manager sees.
      checkKind(patch, rt);
      next = applyStrategicMergePatch(rt.kind, old, patch);
    }
    const obj = checkKind(next, rt);
    this.checkFields(obj, opts);
    const patchMeta = Array.isArray(patch)
      ? undefined
      : (patch as { metadata?: { resourceVersion?: string; uid?: string } } | null)?.metadata;
    if (patchMeta?.resourceVersion && patchMeta.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(rt.plural, rt.group, name);
    }
    // The kubelet's status patches carry metadata.uid as a precondition against a recreated pod.
    if (patchMeta?.uid && patchMeta.uid !== old.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${patchMeta.uid}, UID in object meta: ${old.metadata.uid}`,
        { name, group: rt.group, kind: rt.plural },
      );
    }
    if (obj.metadata.name !== old.metadata.name)
      throw badRequest('metadata.name: Invalid value: the name of the object may not change in a patch');
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.commitUpdate(rt, old, obj, subresource, opts);
  }

  /**
   * DELETE. Scheduled pods with a grace period get deletionTimestamp (the kubelet finishes the
   * deletion with grace 0); objects with finalizers wait for them; everything else goes now.
   */
  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): KubeObject {
    const old = this.get(rt, namespace, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== old.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (
      opts.preconditions?.resourceVersion &&
      opts.preconditions.resourceVersion !== old.metadata.resourceVersion
    ) {
      throw conflict(rt.plural, rt.group, name);
    }
    if (opts.dryRun) return old;
    const key = resourceKey(rt);
    const finalizers = old.metadata.finalizers ?? [];
    if (rt.kind === 'Pod') {
      const spec = (old.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
      const phase = (old.status as { phase?: string } | undefined)?.phase;
      let grace = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
      // Unscheduled and finished pods have no kubelet to wait for.
      if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
      const current = old.metadata.deletionGracePeriodSeconds;
      if (grace > 0 || finalizers.length > 0) {
        if (current !== undefined && current <= grace) return old;
        const deletionTimestamp = rfc3339(new Date(this.options.now().getTime() + grace * 1000));
        // The first graceful deletion changes what controllers may do with the object, so it
        // bumps the generation (upstream rest.BeforeDelete); shortening the grace does not.
        const generation =
          current === undefined && old.metadata.generation
            ? old.metadata.generation + 1
            : old.metadata.generation;
        return this.store.put(
          key,
          {
            ...old,
            metadata: {
              ...old.metadata,
              deletionTimestamp,
              deletionGracePeriodSeconds: grace,
              ...(generation !== undefined ? { generation } : {}),
            },
          },
          'MODIFIED',
        );
      }
    } else if (finalizers.length > 0) {
      if (old.metadata.deletionTimestamp) return old;
      // Marking an object for deletion bumps its generation (upstream markAsDeleting).
      return this.store.put(
        key,
        {
          ...old,
          metadata: {
            ...old.metadata,
            deletionTimestamp: rfc3339(this.options.now()),
            deletionGracePeriodSeconds: 0,
            ...(old.metadata.generation ? { generation: old.metadata.generation + 1 } : {}),
          },
        },
        'MODIFIED',
      );
    }
    return this.store.remove(key, old.metadata.namespace, name) as KubeObject;
  }

  /** pods/binding: what the scheduler does — set spec.nodeName once. */
  bind(rt: ResourceType, namespace: string, name: string, body: unknown): void {
    const target = (body as { target?: { name?: string } } | null)?.target?.name;
    if (!target) throw badRequest('binding target name is required');
    const pod = this.get(rt, namespace, name);
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (spec.nodeName) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${spec.nodeName}"`,
      );
    }
    this.store.put(resourceKey(rt), { ...pod, spec: { ...spec, nodeName: target } }, 'MODIFIED');
  }

  /** serviceaccounts/token: an opaque bearer token (the fake server does not check tokens). */
  createToken(rt: ResourceType, namespace: string, name: string, body: unknown): KubeObject {
    this.get(rt, namespace, name);
    const seconds =
      (body as { spec?: { expirationSeconds?: number } } | null)?.spec?.expirationSeconds ?? 3600;
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: rfc3339(this.options.now()) },
      spec: { ...((body as { spec?: object } | null)?.spec ?? {}), expirationSeconds: seconds },
      status: {
        token: `fake.${randomBytes(24).toString('base64url')}`,
        expirationTimestamp: rfc3339(new Date(this.options.now().getTime() + seconds * 1000)),
      },
    };
  }
}
