import type { Socket } from 'node:net';
import type { ApiRequest, ApiResponse } from './http-exchange';

/**
 * Called for each request the API server serves, HTTP/1.1 and HTTP/2 alike, before it is routed.
 * `connection` is one object per connection: `req.socket` for HTTP/1.x; for HTTP/2 the TLS
 * socket the session runs on, the same for every stream of the session (`session.socket` is a
 * proxy of it whose reads throw once the session has let the socket go, as in a 'close' listener).
 */
export type RequestObserver = (request: ApiRequest, response: ApiResponse, connection: Socket) => void;

/**
 * The observers ApiServer.observeRequests adds: node:http's diagnostics channel
 * (http.server.request.start) sees no HTTP/2 request, so the server reports its requests itself.
 * Upgrade requests (exec, attach, port-forward, log WebSockets) have no response and are not
 * reported, as that channel reports none either.
 */
export class RequestObservers {
  /** Entries, not the functions: the same function added twice is called twice and removed once per unsubscribe. */
  private readonly entries = new Set<{ observer: RequestObserver }>();

  /** Adds `observer`; returns what removes it again. */
  add(observer: RequestObserver): () => void {
    const entry = { observer };
    this.entries.add(entry);
    return () => {
      this.entries.delete(entry);
    };
  }

  /**
   * Tells every observer of a request. An observer's exception does not keep the request from
   * being served: it is thrown again on the next tick (an uncaught exception), as a diagnostics
   * channel subscriber's is.
   */
  notify(req: ApiRequest, res: ApiResponse, connection: Socket): void {
    for (const { observer } of [...this.entries]) {
      try {
        observer(req, res, connection);
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }
}
