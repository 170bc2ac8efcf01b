import type { CriClient } from '@nodeagent/cri-client';
import type { StreamConnector } from './upgrade-proxy';

/** A CRI ExecRequest: run `cmd` in a running container with the chosen streams. */
export interface ExecStreamRequest {
  /** The runtime's container ID. */
  containerId: string;
  /** The command and its arguments (no shell is added). */
  cmd: string[];
  /** Whether the session carries the caller's stdin. */
  stdin: boolean;
  /** Whether the session carries the process's stdout. */
  stdout: boolean;
  /** Whether the session carries stderr; always false with a TTY, where it is merged into stdout. */
  stderr: boolean;
  /** Whether the process gets a terminal. */
  tty: boolean;
}

/** A CRI AttachRequest: the same streams as {@link ExecStreamRequest}, joined to the container's main process. */
export type AttachStreamRequest = Omit<ExecStreamRequest, 'cmd'>;

/**
 * The runtime's streaming calls (CRI Exec/Attach/PortForward): each returns the URL of the
 * runtime's streaming server that serves the session once, which the kubelet server proxies to.
 */
export interface StreamingRuntime {
  /** CRI Exec: the URL of a session running the command. */
  exec(request: ExecStreamRequest): Promise<string>;
  /** CRI Attach: the URL of a session attached to the container's main process. */
  attach(request: AttachStreamRequest): Promise<string>;
  /** CRI PortForward: the URL of a session forwarding to `ports` inside the sandbox's network namespace. */
  portForward(podSandboxId: string, ports: number[]): Promise<string>;
  /** How to reach the streaming server's host:port; TCP when absent. */
  connect?: StreamConnector;
}

/**
 * The {@link StreamingRuntime} over a CRI client's Exec, Attach and PortForward calls; a rejected
 * CRI call rejects the returned promise with the client's error.
 */
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
