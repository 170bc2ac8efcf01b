import { InvalidCsiArgumentError } from './csi-error';

/**
 * A plugin endpoint as a grpc-js target. Accepts what drivers register and upstream dials:
 * `unix:///abs/path`, `unix:/abs/path` and a bare absolute socket path.
 */
export function pluginTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:/')) return `unix://${endpoint.slice('unix:'.length)}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new InvalidCsiArgumentError(
    'endpoint',
    endpoint,
    'expected unix:///path/to/socket or an absolute socket path',
  );
}
