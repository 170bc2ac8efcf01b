import type { CriClient } from '@nodeagent/cri-client';
import type { StreamConnector } from './upgrade-proxy';

export interface ExecStreamRequest {
  containerId: string;
  cmd: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export type AttachStreamRequest = Omit<ExecStreamRequest, 'cmd'>;

/**
 * The runtime's streaming calls (CRI Exec/Attach/PortForward): each returns the URL of the
 * runtime's streaming server that serves the session once, which the kubelet server proxies to.
 */
export interface StreamingRuntime {
  exec(request: ExecStreamRequest): Promise<string>;
  attach(request: AttachStreamRequest): Promise<string>;
  portForward(podSandboxId: string, ports: number[]): Promise<string>;
  /** How to reach the streaming server's host:port; TCP when absent. */
  connect?: StreamConnector;
}

export function criStreamingRuntime(
  client: Pick<CriClient, 'exec' | 'attach' | 'portForward'>,
  options: { connect?: StreamConnector } = {},
): StreamingRuntime {
  return {
    connect: options.connect,
    exec: async (request) => (await client.exec(request)).url,
    attach: async (request) => (await client.attach(request)).url,
    portForward: async (podSandboxId, port) => (await client.portForward({ podSandboxId, port })).url,
  };
}
