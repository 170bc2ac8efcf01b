import { joinHostPort } from '@nodeagent/primitives/go-text';

/**
 * The part of a Service the kubelet's service-link variables read; what the kubelet's Service
 * informer keeps (see sources/api-service-lister.ts), so a large cluster costs little memory.
 */
export interface ServiceLink {
  metadata: { name?: string; namespace?: string };
  spec?: {
    clusterIP?: string;
    ports?: { name?: string; port: number; protocol?: string }[];
  };
}

/** Where the kubelet reads Services from (an informer's store); absent in standalone mode. */
export interface ServiceLister {
  /** Every Service currently known, in all namespaces; the caller picks the pod's namespace and `default`. */
  list(): readonly ServiceLink[];
  /** False until the first list arrived: upstream refuses to build env vars before that. */
  hasSynced(): boolean;
}

/** Upstream masterServices: links to these Services in `default` are in every pod, links enabled or not. */
const masterServices = new Set(['kubernetes']);

/** Upstream makeEnvVariableName: "my-svc" → "MY_SVC". */
function envName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

function hasClusterIP(service: ServiceLink): boolean {
  const ip = service.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** Upstream envvars.FromServices for one Service: {SVC}_SERVICE_HOST/_PORT[_NAME] and the Docker link variables. */
export function serviceLinkVariables(service: ServiceLink): [string, string][] {
  if (!hasClusterIP(service)) return [];
  const prefix = envName(service.metadata.name ?? '');
  const ip = service.spec?.clusterIP ?? '';
  const ports = service.spec?.ports ?? [];
  const vars: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip]];
  if (ports.length === 0) return vars;
  vars.push([`${prefix}_SERVICE_PORT`, String(ports[0]!.port)]);
  for (const port of ports) {
    if (port.name) vars.push([`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port)]);
  }
  for (const [index, port] of ports.entries()) {
    const protocol = (port.protocol || 'TCP').toLowerCase();
    const url = `${protocol}://${joinHostPort(ip, port.port)}`;
    // Docker special-cases the first port.
    if (index === 0) vars.push([`${prefix}_PORT`, url]);
    const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
    vars.push(
      [portPrefix, url],
      [`${portPrefix}_PROTO`, protocol],
      [`${portPrefix}_PORT`, String(port.port)],
      [`${portPrefix}_ADDR`, ip],
    );
  }
  return vars;
}

/**
 * Upstream getServiceEnvVarMap: the link variables of every Service with a cluster IP in the
 * pod's namespace when `enableServiceLinks` (default true), and always those of the master
 * `kubernetes` Service in `default`.
 */
export function serviceEnvVarMap(
  services: readonly ServiceLink[],
  namespace: string,
  enableServiceLinks: boolean,
): Record<string, string> {
  const chosen = new Map<string, ServiceLink>();
  for (const service of services) {
    if (!hasClusterIP(service)) continue;
    const name = service.metadata.name ?? '';
    const serviceNamespace = service.metadata.namespace ?? 'default';
    if (serviceNamespace === 'default' && masterServices.has(name)) {
      if (!chosen.has(name)) chosen.set(name, service);
    } else if (serviceNamespace === namespace && enableServiceLinks) {
      chosen.set(name, service);
    }
  }
  const env: Record<string, string> = {};
  for (const service of chosen.values()) {
    for (const [key, value] of serviceLinkVariables(service)) env[key] = value;
  }
  return env;
}
