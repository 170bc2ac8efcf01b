import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { openWebSocket, type StreamConnector, StreamingError, tcpConnector } from './websocket-client';

/**
 * Kubernetes remote-command channels over WebSocket (the kubelet/CRI streaming server protocol):
 * every message starts with one channel byte.
 */
export const StreamChannel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** v4 sends a JSON metav1.Status on the error channel; channel.k8s.io sends plain text. */
export const STREAM_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];

/** How a streamed exec or attach ended: its exit code and the status it came from. */
export interface StreamExit {
  /** Exit code of the remote process (0 when the server reported Success). */
  exitCode: number;
  /** The server's final status object (v4) or error text, if any. */
  status?: unknown;
}

/** An open exec/attach/port-forward stream: its channels, exit and close. */
export interface StreamSession {
  /** Sub-protocol the server chose. */
  readonly protocol: string;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** Send bytes to the process's stdin (the session must have been requested with stdin). */
  writeStdin(data: string | Buffer): void;
  /** Tell a TTY session its new terminal size. */
  resize(width: number, height: number): void;
  /** Settles when the server ends the session: the exit code, or StreamingError on failure. */
  readonly exit: Promise<StreamExit>;
  /** Closes the connection; the exit promise settles. */
  close(): void;
}

/** How to open a streaming URL: which channels and an optional connector. */
export interface OpenStreamOptions {
  /**
   * How to reach the streaming server's host:port. Default TCP; tests use this to reach a server
   * that only listens inside a network namespace.
   */
  connector?: StreamConnector;
}

/** The Kubernetes Status the v4 streaming protocols send on the error channel when a command ends. */
export interface V4Status {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string }> };
}

/** Exit code from a v4 error-channel status: Success → 0, NonZeroExitCode → its ExitCode cause. */
export function exitFromStatus(status: V4Status): StreamExit {
  if (status.status === 'Success') return { exitCode: 0, status };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return { exitCode: code, status };
  }
  throw new StreamingError('REMOTE_FAILURE', status.message ?? JSON.stringify(status));
}

/**
 * Open the stream behind a URL returned by Exec or Attach and expose it as stdout/stderr streams,
 * stdin writes, resize, and an exit promise.
 */
export async function openStream(url: string, opts: OpenStreamOptions = {}): Promise<StreamSession> {
  const ws = await openWebSocket(url, STREAM_PROTOCOLS, opts.connector ?? tcpConnector);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let errorPayload: Buffer | undefined;
  const exit = new Promise<StreamExit>((resolve, reject) => {
    ws.on('message', (m: Buffer) => {
      if (m.length === 0) return;
      const channel = m[0];
      const data = m.subarray(1);
      if (data.length === 0) return; // channel-open marker
      if (channel === StreamChannel.stdout) stdout.write(data);
      else if (channel === StreamChannel.stderr) stderr.write(data);
      else if (channel === StreamChannel.error)
        errorPayload = Buffer.concat([errorPayload ?? Buffer.alloc(0), data]);
    });
    ws.on('error', (e: Error) => reject(new StreamingError('TRANSPORT', e.message)));
    ws.on('close', () => {
      stdout.end();
      stderr.end();
      if (!errorPayload || errorPayload.length === 0) return resolve({ exitCode: 0 });
      if (ws.protocol.startsWith('v4.')) {
        try {
          resolve(exitFromStatus(JSON.parse(errorPayload.toString('utf8')) as V4Status));
        } catch (e) {
          reject(
            e instanceof StreamingError ? e : new StreamingError('BAD_STATUS', errorPayload.toString('utf8')),
          );
        }
      } else {
        reject(new StreamingError('REMOTE_FAILURE', errorPayload.toString('utf8')));
      }
    });
  });
  ws.start();
  return {
    protocol: ws.protocol,
    stdout,
    stderr,
    writeStdin: (data) => ws.send(Buffer.concat([Buffer.from([StreamChannel.stdin]), Buffer.from(data)])),
    resize: (width, height) =>
      ws.send(
        Buffer.concat([
          Buffer.from([StreamChannel.resize]),
          Buffer.from(JSON.stringify({ Width: width, Height: height })),
        ]),
      ),
    exit,
    close: () => ws.close(),
  };
}

/** Collect a session's output until it ends: handy for tests and one-shot commands. */
export async function collectStream(
  session: StreamSession,
): Promise<StreamExit & { stdout: string; stderr: string }> {
  const [stdout, stderr, result] = await Promise.all([
    text(session.stdout),
    text(session.stderr),
    session.exit,
  ]);
  return { ...result, stdout, stderr };
}
