import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resource-types';

function gvPath(r: ResourceType): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

function schemaName(r: ResourceType): string {
  const g = r.group ? r.group.split('.').reverse().join('.') : 'core';
  return `io.k8s.api.${g}.${r.version}.${r.kind}`;
}

/** OpenAPI v3 discovery: one document per group-version, as kubectl expects. */
export function openApiV3Root() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of RESOURCE_TYPES) {
    const p = gvPath(r);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=nodeagent` };
  }
  return { paths };
}

const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

const WRITE_PARAMS = [
  { name: 'dryRun', in: 'query', schema: { type: 'string' } },
  { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
  { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
];

/**
 * A minimal OpenAPI v3 document for one group-version: every resource path with the write
 * parameters (kubectl probes `fieldValidation` here to choose server-side validation) and an
 * open object schema tagged with its group-version-kind.
 */
export function openApiV3Document(path: string) {
  const rs = RESOURCE_TYPES.filter((r) => gvPath(r) === path.replace(/\/+$/, ''));
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of rs) {
    const ref = { $ref: `#/components/schemas/${schemaName(r)}` };
    const body = { content: { 'application/json': { schema: ref } } };
    const op = { parameters: WRITE_PARAMS, requestBody: body, responses: { '200': body } };
    const gvk = [{ group: r.group, version: r.version, kind: r.kind }];
    const base = r.namespaced ? `/${path}/namespaces/{namespace}/${r.plural}` : `/${path}/${r.plural}`;
    paths[base] = {
      post: { ...op, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk[0] },
    };
    const patchBody = {
      content: Object.fromEntries(PATCH_CONTENT_TYPES.map((t) => [t, { schema: { type: 'object' } }])),
    };
    paths[`${base}/{name}`] = {
      put: { ...op, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk[0] },
      patch: {
        ...op,
        requestBody: patchBody,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk[0],
      },
    };
    schemas[schemaName(r)] = {
      type: 'object',
      description: `${r.kind} (${apiVersionOf(r)})`,
      'x-kubernetes-group-version-kind': gvk,
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.36.3' },
    paths,
    components: { schemas },
  };
}

/** A minimal Swagger 2.0 document (older clients fetch it for validation). */
export function openApiV2() {
  const definitions: Record<string, unknown> = {};
  for (const r of RESOURCE_TYPES) {
    definitions[schemaName(r)] = {
      type: 'object',
      'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }],
    };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.36.3' }, paths: {}, definitions };
}
