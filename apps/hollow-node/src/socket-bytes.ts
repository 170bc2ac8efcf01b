import type { Socket } from 'node:net';

/** Bytes one node's connections carried: what it sent and what it received. */
export interface NodeBytes {
  sent: number;
  received: number;
}

/**
 * The bytes on the sockets of one node's requests, as node:net counts them on each socket
 * (`bytesWritten`, `bytesRead`): a node's connections are its own (one keep-alive agent per node),
 * so every byte on them is the node's. Live sockets are read when asked; a closed one's final
 * counts are kept, so connections the server or the agent closed still count.
 */
export class SocketBytes {
  private readonly live = new Set<Socket>();
  private closed: NodeBytes = { sent: 0, received: 0 };
  /** What had been carried when the window started (resetCounts). */
  private baseline: NodeBytes = { sent: 0, received: 0 };

  /** Counts `socket` from now on (again for a reused keep-alive socket: counted once). */
  track(socket: Socket | null | undefined): void {
    if (!socket || this.live.has(socket)) return;
    this.live.add(socket);
    socket.once('close', () => {
      this.live.delete(socket);
      this.closed.sent += socket.bytesWritten;
      this.closed.received += socket.bytesRead;
    });
  }

  private carried(): NodeBytes {
    let { sent, received } = this.closed;
    for (const socket of this.live) {
      sent += socket.bytesWritten;
      received += socket.bytesRead;
    }
    return { sent, received };
  }

  /** Bytes since the start, or since the last reset. */
  totals(): NodeBytes {
    const now = this.carried();
    return { sent: now.sent - this.baseline.sent, received: now.received - this.baseline.received };
  }

  /** Starts a new window: totals() counts from here. */
  reset(): void {
    this.baseline = this.carried();
  }
}
