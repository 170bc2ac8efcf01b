import { InvalidArgumentError } from './cri-error';

/** The kubelet's default --container-runtime-endpoint for containerd. */
export const DEFAULT_CRI_ENDPOINT = 'unix:///run/containerd/containerd.sock';

/**
 * Normalise a runtime endpoint to a grpc-js target. Accepts `unix:///abs/path`, `unix:/abs/path`
 * and a bare absolute socket path (as crictl does).
 */
export function grpcTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:/')) return `unix://${endpoint.slice('unix:'.length)}`;
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  throw new InvalidArgumentError(
    'endpoint',
    endpoint,
    'expected unix:///path/to/socket or an absolute socket path',
  );
}

/** The socket's path of a runtime endpoint (the forms grpcTarget accepts). */
export function socketPath(endpoint: string): string {
  return grpcTarget(endpoint).slice('unix://'.length);
}
