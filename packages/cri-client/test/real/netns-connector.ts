import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { StreamConnector } from '../../src/index';

/**
 * The private containerd's streaming server listens on 127.0.0.1 inside its network namespace.
 * Reach it through `busybox nc` started in that namespace, with the pipe as the transport, so the
 * test never touches the host's network stack.
 */
export function netnsConnector(netnsPath: string): StreamConnector {
  return (host, port) => {
    const child = spawn('nsenter', [`--net=${netnsPath}`, 'busybox', 'nc', host, String(port)], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
    duplex.on('close', () => child.kill());
    return duplex;
  };
}
