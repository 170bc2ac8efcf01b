import { InvalidProbeError, PortNotFoundError } from './errors';
import type { ContainerPortSpec } from './probe-types';

/**
 * Resolves an IntOrString probe port against the container's ports, like the kubelet's
 * probe.ResolveContainerPort: numbers are used as given, names must match a declared port.
 */
export function resolveContainerPort(
  field: string,
  port: number | string,
  ports: readonly ContainerPortSpec[] = [],
): number {
  if (typeof port === 'number') return checkPortNumber(field, port);
  if (/^[0-9]+$/.test(port)) return checkPortNumber(field, Number(port));
  const match = ports.find((p) => p.name === port);
  if (!match) {
    const names = ports.map((p) => p.name).filter((n): n is string => Boolean(n));
    throw new PortNotFoundError(field, port, `no container port named so (ports: [${names.join(', ')}])`);
  }
  return checkPortNumber(field, match.containerPort);
}

function checkPortNumber(field: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidProbeError(field, port, 'must be a port number between 1 and 65535');
  }
  return port;
}
