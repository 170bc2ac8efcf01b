// Structural validation of manifests against the Kubernetes API schemas as generated into
// @kubernetes/client-node (each model's attributeTypeMap comes from the upstream OpenAPI spec).
// The machine has no route to a schema host and the in-process API server serves open object
// schemas, so this is what lets a test fail on a misspelt field or a wrong type.
import * as k8s from '@kubernetes/client-node';

/** One problem, with the JSON path of the offending field and the value found there. */
export class ManifestSchemaError extends Error {
  readonly code = 'MANIFEST_SCHEMA';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${field}: ${reason} (got ${JSON.stringify(value)})`);
    this.name = 'ManifestSchemaError';
  }
}

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

type Model = { getAttributeTypeMap(): Attribute[] };

const models = k8s as unknown as Record<string, Model | undefined>;

/** The generated model class for apiVersion/kind, e.g. apps/v1 DaemonSet → V1DaemonSet. */
export function modelNameFor(apiVersion: string, kind: string): string {
  const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
  return `${version[0]?.toUpperCase()}${version.slice(1)}${kind}`;
}

/**
 * Fields every object of these kinds needs that the generated types cannot express (the OpenAPI
 * `required` lists for the parts our manifests use).
 */
const REQUIRED: Record<string, string[]> = {
  V1DaemonSetSpec: ['selector', 'template'],
  V1Container: ['name'],
  V1ContainerPort: ['containerPort'],
  V1EnvVar: ['name'],
  V1Volume: ['name'],
  V1VolumeMount: ['name', 'mountPath'],
  V1PolicyRule: ['verbs'],
  V1RoleRef: ['apiGroup', 'kind', 'name'],
  RbacV1Subject: ['kind', 'name'],
  V1HostPathVolumeSource: ['path'],
  V1HTTPGetAction: ['port'],
  V1ObjectFieldSelector: ['fieldPath'],
};

function checkValue(type: string, value: unknown, path: string, errors: ManifestSchemaError[]): void {
  if (value === null || value === undefined) return;
  const t = type.trim();
  const array = /^Array<(.+)>$/.exec(t);
  if (array) {
    if (!Array.isArray(value))
      errors.push(new ManifestSchemaError(path, value, `expected a list of ${array[1]}`));
    else {
      for (const [i, v] of value.entries()) checkValue(array[1]!, v, `${path}[${i}]`, errors);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value))
      errors.push(new ManifestSchemaError(path, value, 'expected a map'));
    else for (const [k, v] of Object.entries(value)) checkValue(map[1]!, v, `${path}.${k}`, errors);
    return;
  }
  switch (t.toLowerCase()) {
    case 'string':
    case 'date':
      if (typeof value !== 'string') errors.push(new ManifestSchemaError(path, value, 'expected a string'));
      return;
    case 'number':
      if (typeof value !== 'number') errors.push(new ManifestSchemaError(path, value, 'expected a number'));
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(new ManifestSchemaError(path, value, 'expected a boolean'));
      return;
    case 'intorstring':
      if (typeof value !== 'string' && typeof value !== 'number') {
        errors.push(new ManifestSchemaError(path, value, 'expected an integer or a string'));
      }
      return;
    case 'any':
    case 'object':
      return;
  }
  const model = models[t];
  if (!model?.getAttributeTypeMap) {
    // Generated string enums have no class; their values are strings.
    if (typeof value !== 'string') errors.push(new ManifestSchemaError(path, value, `expected ${t}`));
    return;
  }
  checkObject(t, model, value, path, errors);
}

function checkObject(
  name: string,
  model: Model,
  value: unknown,
  path: string,
  errors: ManifestSchemaError[],
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push(new ManifestSchemaError(path, value, `expected an object (${name})`));
    return;
  }
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  const record = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(record)) {
    const attribute = attributes.get(key);
    if (!attribute) errors.push(new ManifestSchemaError(`${path}.${key}`, v, `unknown field in ${name}`));
    else checkValue(attribute.type, v, `${path}.${key}`, errors);
  }
  for (const field of REQUIRED[name] ?? []) {
    if (record[field] === undefined)
      errors.push(new ManifestSchemaError(`${path}.${field}`, undefined, 'required'));
  }
}

/** Every schema problem in one decoded manifest object (empty when it conforms). */
export function validateManifest(object: unknown): ManifestSchemaError[] {
  const o = object as { apiVersion?: unknown; kind?: unknown };
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string') {
    return [new ManifestSchemaError('(root)', object, 'apiVersion and kind are required')];
  }
  const name = modelNameFor(o.apiVersion, o.kind);
  const model = models[name];
  if (!model?.getAttributeTypeMap) {
    return [
      new ManifestSchemaError('kind', `${o.apiVersion}/${o.kind}`, 'no Kubernetes schema for this kind'),
    ];
  }
  const errors: ManifestSchemaError[] = [];
  checkObject(name, model, object, o.kind, errors);
  // Only top-level objects need a name (pod templates may not have one).
  const metadata = (object as { metadata?: { name?: unknown } }).metadata;
  if (typeof metadata?.name !== 'string' || metadata.name === '') {
    errors.push(new ManifestSchemaError(`${o.kind}.metadata.name`, metadata?.name, 'required'));
  }
  return errors;
}
