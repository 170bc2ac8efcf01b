import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery';
import { openApiV2, openApiV3Document, openApiV3Root } from './openapi';

/**
 * Discovery, version, health and OpenAPI: answers that do not depend on stored objects. A string
 * is sent as text/plain, an object as JSON; undefined means `path` is not one of them.
 * `serverUrl` is the server's own URL (the /api answer names its address).
 */
export function fixedEndpoint(path: string, serverUrl: string): unknown {
  if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok';
  if (path === '/version') return SERVER_VERSION;
  if (path === '/api') return apiVersions(serverUrl.replace(/^https?:\/\//, ''));
  if (path === '/apis') return apiGroupList();
  if (path === '/api/v1') return apiResourceList('', 'v1');
  if (path === '/openapi/v2') return openApiV2();
  if (path === '/openapi/v3') return openApiV3Root();
  if (path.startsWith('/openapi/v3/'))
    return openApiV3Document(path.slice('/openapi/v3/'.length)) ?? undefined;
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (m) return m[2] ? apiResourceList(m[1] as string, m[2]) : apiGroup(m[1] as string);
  return undefined;
}
