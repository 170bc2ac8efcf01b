import { KubeProxyError } from '../errors';

/** A service port's listener could not bind (address in use, address not local, no permission). */
export class ListenError extends KubeProxyError {
  readonly servicePort: string;
  readonly address: string;
  readonly port: number;
  override readonly cause: unknown;
  constructor(servicePort: string, address: string, port: number, cause: unknown) {
    const sysCode = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
    const reason =
      sysCode === 'EADDRINUSE'
        ? 'port already in use'
        : sysCode === 'EADDRNOTAVAIL'
          ? 'address is not assigned to this host'
          : sysCode === 'EACCES'
            ? 'permission denied'
            : String((cause as Error | undefined)?.message ?? cause);
    super(
      sysCode === 'EADDRINUSE' ? 'PORT_IN_USE' : 'LISTEN_FAILED',
      `service port ${servicePort}: cannot listen on ${address}:${port}: ${reason}`,
    );
    this.servicePort = servicePort;
    this.address = address;
    this.port = port;
    this.cause = cause;
  }
}

/** The userspace proxy only speaks TCP and UDP. */
export class UnsupportedProtocolError extends KubeProxyError {
  readonly servicePort: string;
  readonly protocol: string;
  constructor(servicePort: string, protocol: string) {
    super(
      'UNSUPPORTED_PROTOCOL',
      `service port ${servicePort}: protocol ${protocol} is not supported by the userspace proxy (only TCP and UDP)`,
    );
    this.servicePort = servicePort;
    this.protocol = protocol;
  }
}
