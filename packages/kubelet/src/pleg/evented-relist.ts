import type { PodRuntime } from '../cri/pod-runtime';
import type { KubeletLogger } from '../kubelet-logger';
import type { GenericPLEG } from './generic-pleg';

/**
 * The evented PLEG on top of the relist: a relist as soon as the runtime reports a container
 * event (CRI GetContainerEvents). Runtimes without events keep the periodic relist alone.
 */
export class EventedRelist {
  /** Whether container events are being received. */
  active = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly runtime: Pick<PodRuntime, 'containerEvents'>,
    private readonly pleg: Pick<GenericPLEG, 'relist'>,
    private readonly logger: KubeletLogger,
  ) {}

  /** Reads the runtime's events until stop() (or until the stream ends or fails). */
  async start(): Promise<void> {
    const events = this.runtime.containerEvents?.(this.abort.signal);
    if (!events) return;
    try {
      for await (const _event of events) {
        this.active = true;
        void this.pleg.relist().catch(() => undefined);
      }
    } catch (error) {
      if (!this.abort.signal.aborted) {
        this.logger.info(
          { err: String(error) },
          'CRI container events unavailable; relying on the periodic relist',
        );
      }
    } finally {
      this.active = false;
    }
  }

  stop(): void {
    this.abort.abort();
  }
}
