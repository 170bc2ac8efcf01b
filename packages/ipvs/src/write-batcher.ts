import type { RequestGate } from './request-gate';
import type { GenlRequest } from './requests';
import type { GenlTransport, NetlinkErrnoError } from './transport';

interface Entry {
  req: GenlRequest;
  resolve: () => void;
  reject: (err: unknown) => void;
  mapError: (err: NetlinkErrnoError) => unknown;
}

/**
 * Coalesces writes made in the same tick (e.g. `Promise.all` over thousands of adds) into
 * batches sent as one datagram each (see GenlTransport.requestBatch). Each caller still gets its
 * own promise and its own typed error. `flush()` hands queued writes to the gate immediately;
 * reads call it first so they are sent after every write made before them.
 */
export class WriteBatcher {
  private queue: Entry[] = [];
  private scheduled = false;

  constructor(
    private readonly transport: GenlTransport & Required<Pick<GenlTransport, 'requestBatch'>>,
    private readonly familyId: number,
    private readonly gate: RequestGate,
    private readonly maxBatch = 128,
  ) {}

  submit(req: GenlRequest, mapError: (err: NetlinkErrnoError) => unknown): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ req, resolve, reject, mapError });
      if (this.queue.length >= this.maxBatch) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  flush(): void {
    while (this.queue.length > 0) {
      const entries = this.queue.splice(0, this.maxBatch);
      const messages = entries.map((e) => ({ flags: e.req.flags, payload: e.req.payload }));
      this.gate
        .run(() => this.transport.requestBatch(this.familyId, messages), false, entries.length)
        .then(
          (results) => {
            entries.forEach((e, i) => {
              const err = results[i];
              if (err) e.reject(e.mapError(err));
              else e.resolve();
            });
          },
          (err: unknown) => {
            for (const e of entries) e.reject(err);
          },
        );
    }
  }
}
