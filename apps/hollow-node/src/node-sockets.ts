import type { Socket } from 'node:net';

/** Bytes one node's connections carried: what it sent and what it received. */
export interface NodeBytes {
  sent: number;
  received: number;
}

/** What one node's connections carried and how many it opened (each a TCP and, over TLS, a handshake). */
export interface NodeSocketTotals extends NodeBytes {
  opened: number;
}

/**
 * The sockets of one node's requests: the bytes on them, as node:net counts them on each socket
 * (`bytesWritten`, `bytesRead`), and how many there were. A node's connections are its own (one
 * keep-alive agent per node), so every byte on them is the node's, and each one it opened is a
 * connection the API server accepted for it. Live sockets are read when asked; a closed one's
 * final counts are kept, so connections the server or the agent closed still count.
 */
export class NodeSockets {
  private readonly live = new Set<Socket>();
  private closed: NodeSocketTotals = { sent: 0, received: 0, opened: 0 };
  /** What had been carried and opened when the window started (reset). */
  private baseline: NodeSocketTotals = { sent: 0, received: 0, opened: 0 };

  /** Counts `socket` from now on (again for a reused keep-alive socket: counted once). */
  track(socket: Socket | null | undefined): void {
    if (!socket || this.live.has(socket)) return;
    this.live.add(socket);
    socket.once('close', () => {
      this.live.delete(socket);
      this.closed.sent += socket.bytesWritten;
      this.closed.received += socket.bytesRead;
      this.closed.opened++;
    });
  }

  /** The connections open now. */
  open(): number {
    return this.live.size;
  }

  private carried(): NodeSocketTotals {
    let { sent, received } = this.closed;
    for (const socket of this.live) {
      sent += socket.bytesWritten;
      received += socket.bytesRead;
    }
    return { sent, received, opened: this.closed.opened + this.live.size };
  }

  /** Bytes and connections opened since the start, or since the last reset. */
  totals(): NodeSocketTotals {
    const now = this.carried();
    return {
      sent: now.sent - this.baseline.sent,
      received: now.received - this.baseline.received,
      opened: now.opened - this.baseline.opened,
    };
  }

  /** Starts a new window: totals() counts from here. */
  reset(): void {
    this.baseline = this.carried();
  }
}
